"""The declaration of an experiment, and the registry that finds every experiment module.

An experiment is a claim from the course (Lecture 7: "momentum reaches a lower loss than plain
gradient descent on an ill-conditioned quadratic") with the code that tests it. Each experiment
module in ``neuralab/experiments/`` defines a module-level ``EXPERIMENT = Experiment(...)``; the
registry imports every module of the package and collects them, so a new module simply appears
in ``neuralab list`` and ``neuralab curriculum``.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Modules of this package that are the framework, not experiments.
FRAMEWORK_MODULES = frozenset({"base", "runner", "report", "command", "curriculum"})


@dataclass(frozen=True)
class Verdict:
    """Whether the measured result supports the experiment's claim, and why, in one sentence."""

    supported: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"supported": self.supported, "reason": self.reason}


@dataclass
class Experiment:
    """One curriculum experiment.

    Args:
        name: the command-line name (``neuralab run NAME``), lowercase with dashes.
        lecture: the course session it belongs to, e.g. ``"L7"`` or ``"VGG"``.
        title: a short title for reports.
        claim: the lecture's claim in one line; the verdict says whether the run supports it.
        run: ``run(cfg, ctx) -> dict`` does the work: logs metrics and makes figures through the
            :class:`~neuralab.experiments.runner.RunContext` and returns JSON-serializable results.
        verdict: ``verdict(results, cfg) -> Verdict`` decides whether the results support the claim.
        defaults: the full-mode configuration (every key a user may override).
        quick: the keys that differ in quick mode (< 2 minutes on two cores).
        runtime: the expected full-mode runtime in words ("3 min").
        setup: one paragraph describing the setup for the report (may use ``{key}`` fields of the
            configuration).
    """

    name: str
    lecture: str
    title: str
    claim: str
    run: Callable[[dict, Any], dict]
    verdict: Callable[[dict, dict], Verdict]
    defaults: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    runtime: str = "?"
    setup: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.quick) - set(self.defaults))
        if unknown:
            raise ValueError(f"Experiment {self.name!r}: quick-mode keys {unknown} have no "
                             "full-mode default; every key must appear in defaults "
                             f"({sorted(self.defaults)})")

    def config(self, quick: bool = False,
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The configuration of a run: defaults, then quick-mode values, then overrides."""
        cfg = dict(self.defaults)
        if quick:
            cfg.update(self.quick)
        cfg.update(overrides or {})
        return cfg


# ------------------------------------------------------------------------------ registry
_registry: dict[str, Experiment] | None = None
_broken: dict[str, str] = {}


def _discover() -> dict[str, Experiment]:
    """Import every module of this package and collect their ``EXPERIMENT`` declarations.

    A module that fails to import (a piece it needs is missing) is remembered in ``broken()``
    with the error, rather than hiding every other experiment.
    """
    found: dict[str, Experiment] = {}
    here = [str(Path(__file__).parent)]  # this package's folder (no import of the package itself)
    for info in sorted(pkgutil.iter_modules(here), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in FRAMEWORK_MODULES:
            continue
        qualified = f"{__package__}.{info.name}"
        try:
            module = importlib.import_module(qualified)
        except Exception as err:  # noqa: BLE001 - report, keep the other experiments usable
            _broken[info.name] = "".join(traceback.format_exception_only(type(err), err)).strip()
            continue
        experiment = getattr(module, "EXPERIMENT", None)
        if isinstance(experiment, Experiment):
            if experiment.name in found:
                raise RuntimeError(f"experiments: two modules declare the experiment "
                                   f"{experiment.name!r} ({qualified} and another)")
            found[experiment.name] = experiment
    return found


def experiments() -> dict[str, Experiment]:
    """Every registered experiment, by name (discovered on first use)."""
    global _registry
    if _registry is None:
        _registry = _discover()
    return _registry


def register(experiment: Experiment) -> Experiment:
    """Add an experiment defined outside this package (a notebook, a test) to the registry."""
    table = experiments()
    if experiment.name in table and table[experiment.name] is not experiment:
        raise ValueError(f"experiments: an experiment named {experiment.name!r} already exists")
    table[experiment.name] = experiment
    return experiment


def unregister(name: str) -> None:
    """Remove a registered experiment (for tests)."""
    experiments().pop(name, None)


def broken() -> dict[str, str]:
    """Experiment modules that failed to import, with the error message."""
    experiments()
    return dict(_broken)


def get(name: str) -> Experiment:
    """The experiment called ``name``.

    Raises:
        KeyError: for an unknown name, listing the closest matches and the way to see all.
    """
    table = experiments()
    if name in table:
        return table[name]
    from neuralab.experiments.curriculum import planned_names

    candidates = list(dict.fromkeys(list(table) + planned_names()))
    close = difflib.get_close_matches(name, candidates, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if name in planned_names():
        raise KeyError(f"experiment {name!r} is part of the curriculum but not implemented yet "
                       "(see `neuralab curriculum`)")
    if name.replace("_", "-") in _broken or name.replace("-", "_") in _broken:
        module = name.replace("-", "_")
        raise KeyError(f"experiment {name!r} could not be loaded: {_broken.get(module)}")
    raise KeyError(f"unknown experiment {name!r}{hint} (`neuralab list` shows all "
                   f"{len(table)})")
