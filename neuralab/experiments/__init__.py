"""The course's experiments, one module each: claim, configuration, runs, figure, verdict.

Each module listed in ``MODULES`` declares ``EXPERIMENT = Experiment(...)``
(:mod:`neuralab.lab`); ``neuralab list``, ``neuralab curriculum`` and ``neuralab run NAME
[--quick] [--out DIR] [key=value ...]`` find it here and run it into a run directory with its
figures, ``results.json`` and a report. What several experiments share is in :mod:`.toolkit`.
A new experiment copies the shape of a short one (``xor``), joins ``MODULES`` and its session
in :mod:`neuralab.lab.curriculum`.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any

from neuralab.lab import Experiment, planned_names, run

# Every experiment module, imported directly: one that fails to import is a bug and fails
# loudly, never a silently missing experiment.
MODULES = ("xor", "backprop", "learning_rate", "logistic_regression", "optimizers_2d",
           "optimizers_mnist", "generalization", "conv_arithmetic", "architectures_cifar",
           "caltech101", "lenet_mnist", "char_rnn", "deep_mlp_gradients", "exploding_gradients",
           "rnn_vs_lstm", "googlenet_aux", "vgg_deepening", "resnet_degradation")

_registry: dict[str, Experiment] | None = None


def experiments() -> dict[str, Experiment]:
    """Every registered experiment, by name (the modules are imported on first use)."""
    global _registry
    if _registry is None:
        found: dict[str, Experiment] = {}
        for module in MODULES:
            experiment = importlib.import_module(f"neuralab.experiments.{module}").EXPERIMENT
            if experiment.name in found:
                raise RuntimeError(f"experiments: two modules declare the experiment "
                                   f"{experiment.name!r} ({module} and another)")
            found[experiment.name] = experiment
        _registry = found
    return _registry


def register(experiment: Experiment) -> Experiment:
    """Add an experiment (one defined in a notebook or a test) to the registry."""
    table = experiments()
    if table.get(experiment.name, experiment) is not experiment:
        raise ValueError(f"experiments: an experiment named {experiment.name!r} already exists")
    table[experiment.name] = experiment
    return experiment


def unregister(name: str) -> None:
    """Remove a registered experiment (for tests)."""
    experiments().pop(name, None)


def get(name: str) -> Experiment:
    """The experiment called ``name``.

    Raises:
        KeyError: for an unknown name, listing the closest matches and the way to see all.
    """
    table = experiments()
    if name in table:
        return table[name]
    if name in planned_names():
        raise KeyError(f"experiment {name!r} is part of the curriculum but not implemented yet "
                       "(see `neuralab curriculum`)")
    close = difflib.get_close_matches(name, list(dict.fromkeys([*table, *planned_names()])),
                                      n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise KeyError(f"unknown experiment {name!r}{hint} (`neuralab list` shows all "
                   f"{len(table)})")


def run_experiment(name: str, **options: Any) -> tuple[Path, dict[str, Any]]:
    """Run the registered experiment ``name``; ``options`` as :func:`neuralab.lab.run`."""
    return run(get(name), **options)
