"""The course's experiments, one module each: lecture, claim, config, run, report.

Each module here declares ``EXPERIMENT = Experiment(...)`` (see :mod:`neuralab.experiments.base`)
and is found automatically: ``neuralab list`` and ``neuralab curriculum`` show it, and
``neuralab run NAME [--quick] [--out DIR] [--seed N] [key=value ...]`` runs it into a run
directory with ``config.json``, ``metrics.jsonl``, PNG figures, ``results.json``, ``report.md``
and a self-contained ``report.html`` (:mod:`neuralab.experiments.runner`,
:mod:`neuralab.experiments.report`).

Adding an experiment::

    # neuralab/experiments/my_experiment.py
    from neuralab.experiments.base import Experiment, Verdict

    def run(cfg, ctx):                       # ctx: a RunContext
        for step in ctx.progress(range(cfg["steps"]), desc="training"):
            ctx.log("train", step=step, loss=...)
        fig, ax = ctx.subplots()
        ax.plot(...)
        ctx.figure("curve", fig, "What the figure shows.")
        ctx.table("summary", ["model", "accuracy"], [["mlp", 0.98]])
        return {"accuracy": 0.98}             # JSON-serializable results

    def verdict(results, cfg):
        return Verdict(results["accuracy"] > 0.9, f"accuracy {results['accuracy']:.1%}")

    EXPERIMENT = Experiment(name="my-experiment", lecture="L7", title="...", claim="...",
                            run=run, verdict=verdict, defaults={"steps": 1000},
                            quick={"steps": 50}, runtime="1 min", setup="{steps} steps ...")

Then add its name to the session in :mod:`neuralab.experiments.curriculum` (unlisted experiments
are appended to the session named by their ``lecture``).
"""

from neuralab.experiments.base import Experiment, Verdict, experiments, get  # noqa: F401
