"""An experiment's report (``report.md`` and ``report.html``) from its run directory.

The report is built from what the run saved (config.json, metrics.jsonl, results.json and the
PNG figures), so ``neuralab report RUN_DIR`` can re-render it at any time: the claim, the
verdict, the setup, the measured results and a summary of the logged metrics. The rendering
itself is ``neuralab.train.report``'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuralab.lab.experiment import Experiment, Verdict
from neuralab.train.report import fmt, write_report
from neuralab.train.rundir import read_metrics


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"report: {path} is missing; is {path.parent} a run directory "
                                "written by `neuralab run`?")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # truncated, edited by hand, not UTF-8
        raise ValueError(f"report: {path} is damaged ({err}); run the experiment again") \
            from None
    if not isinstance(content, dict):
        raise ValueError(f"report: {path} is damaged (a JSON object was expected); run the "
                         "experiment again")
    return content


def _blocks(run_dir: Path, registered: dict[str, Experiment]) -> list[tuple]:
    config = _read_json(run_dir / "config.json")
    saved = _read_json(run_dir / "results.json")
    name = config.get("experiment")
    if not isinstance(name, str):
        raise ValueError(f"report: {run_dir / 'config.json'} is damaged (it names no experiment); "
                         "run the experiment again")
    cfg = config.get("config", {})
    experiment = registered.get(name)
    if experiment is not None:  # runs saved before config.json described the experiment
        config = {"title": experiment.title, "claim": experiment.claim,
                  "setup": experiment.describe(cfg), **config}
    verdict = Verdict.from_dict(saved.get("verdict") or {})
    blocks: list[tuple] = [
        ("h1", f"{config.get('title') or name} ({name}, {config.get('lecture', '?')})"),
        ("p", f"**Claim.** {config.get('claim') or '(not recorded in config.json)'}"),
        ("callout", verdict.supported, f"{verdict.word}: {verdict.reason}"),
        ("h2", "Setup")]
    if config.get("setup"):
        blocks.append(("p", config["setup"]))
    overrides = ", ".join(config.get("overrides") or {})
    blocks += [("p", f"Mode: **{config.get('mode')}**, seed {config.get('seed')}, run time "
                     f"{fmt(saved.get('elapsed_s'))} s."),
               ("table", ["key", "value"], [[k, fmt(v)] for k, v in cfg.items()],
                "Configuration" + (f" (overrides: {overrides})" if overrides else "")),
               ("h2", "Results"), *(("p", text) for text in saved.get("notes", []))]

    def scalar(v: Any) -> bool:
        return isinstance(v, (int, float, str, bool)) or v is None

    values = [[k, fmt(v)] for k, v in saved.get("results", {}).items()
              if scalar(v) or (isinstance(v, list) and len(v) <= 8 and all(map(scalar, v)))]
    if values:
        blocks.append(("table", ["result", "value"], values, "Measured values"))
    for table in saved.get("tables", []):
        blocks.append(("table", table["columns"], [[fmt(v) for v in r] for r in table["rows"]],
                       table.get("caption") or table["name"]))
    blocks += [("figure", f["file"], f.get("caption", "")) for f in saved.get("figures", [])]
    series: dict[str, list[dict]] = {}
    if (run_dir / "metrics.jsonl").exists():
        for row in read_metrics(run_dir):
            series.setdefault(row.get("series", "metrics"), []).append(row)
    if series:
        rows = []
        for key, items in series.items():
            last = [(k, v) for k, v in items[-1].items() if k != "series"][:6]
            rows.append([key, len(items), ", ".join(f"{k}={fmt(v)}" for k, v in last)])
        blocks += [("h2", "Logged metrics"),
                   ("table", ["series", "rows", "last row"], rows,
                    "From metrics.jsonl (every logged measurement is there)")]
    return blocks


def render_report(run_dir: str | Path,
                  registered: dict[str, Experiment] | None = None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` for a run directory; returns their paths.

    The title, claim and setup come from the run's ``config.json``; ``registered`` (the
    experiments by name) supplies them for a run saved before config.json recorded them.

    Raises:
        FileNotFoundError: when the directory lacks config.json or results.json.
        ValueError: when one of them is damaged.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"report: no run directory at {run_dir}")
    return write_report(run_dir, _blocks(run_dir, registered or {}))
