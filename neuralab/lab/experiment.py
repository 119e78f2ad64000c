"""An experiment's declaration and its verdict.

An experiment is a claim from the course (Lecture 7: "momentum reaches a lower loss than plain
gradient descent on an ill-conditioned quadratic") with the code that tests it: an
``Experiment`` names the claim, its configuration and the ``run`` that measures it, and its
``verdict`` turns the measurements into ``Comparison``s that ``judge`` reads as SUPPORTED,
CONTRADICTED or NOT SHOWN AT THIS SCALE.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUPPORTED, CONTRADICTED, NOT_SHOWN = "supported", "contradicted", "not shown at this scale"


@dataclass(frozen=True)
class Verdict:
    """Whether the measured result supports the claim, and why, in one sentence.

    ``status``: ``"supported"``, ``"contradicted"`` (a comparison the claim makes came out the
    other way) or ``"not shown at this scale"`` (a bound was missed, or the run was too small
    to test the comparison); empty, it follows ``supported``.
    """

    supported: bool
    reason: str
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", SUPPORTED if self.supported else CONTRADICTED)
        if self.status not in (SUPPORTED, CONTRADICTED, NOT_SHOWN):
            raise ValueError(f"Verdict: status must be {SUPPORTED!r}, {CONTRADICTED!r} or "
                             f"{NOT_SHOWN!r}, got {self.status!r}")
        if self.supported != (self.status == SUPPORTED):
            raise ValueError(f"Verdict: supported={self.supported} contradicts status "
                             f"{self.status!r}")

    @property
    def word(self) -> str:
        """SUPPORTED, CONTRADICTED or NOT SHOWN AT THIS SCALE, as the reports print it."""
        return self.status.upper()

    def as_dict(self) -> dict[str, Any]:
        return {"supported": self.supported, "status": self.status, "reason": self.reason}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> Verdict:
        """The verdict ``as_dict`` wrote (runs saved before ``status`` existed included)."""
        return cls(bool(saved.get("supported")), str(saved.get("reason", "")),
                   str(saved.get("status", "")))


_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq}


@dataclass(frozen=True)
class Comparison:
    """One measured comparison a claim rests on, ``left op right``, both numbers named.

    ``bound``: ``right`` is a fixed threshold (missing it means "not shown at this scale")
    rather than another measurement (the wrong order contradicts the claim). ``noise``: the
    smallest gap between two measurements the run can resolve (for two error rates,
    ``error_rate_noise``); sides closer than that neither support nor contradict the claim,
    whichever way they fall, and leave it "not shown at this scale". ``fmt`` formats both
    numbers in the verdict (``".1%"``, ``"d"``...).
    """

    left_name: str
    left: float
    op: str
    right_name: str
    right: float
    bound: bool = False
    fmt: str = ".3g"
    noise: float = 0.0

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"Comparison: op must be one of {', '.join(_OPS)}, got {self.op!r}")

    @property
    def holds(self) -> bool:
        """Whether ``left op right`` (NaN never holds)."""
        left, right = float(self.left), float(self.right)
        return not (math.isnan(left) or math.isnan(right)) and bool(_OPS[self.op](left, right))

    @property
    def resolved(self) -> bool:
        """Whether the two sides are at least ``noise`` apart (always, without a noise level)."""
        return self.noise <= 0 or abs(float(self.left) - float(self.right)) >= self.noise

    def _text(self, value: float) -> str:
        if self.fmt.endswith("d") and math.isfinite(float(value)):
            return format(int(value), self.fmt)
        return format(float(value), self.fmt.replace("d", "g"))

    def __str__(self) -> str:
        outcome = ("holds" if self.holds else "FAILS") if self.resolved else \
            f"within the noise ±{self._text(self.noise)}"
        return (f"{self.left_name} {self._text(self.left)} {self.op} {self.right_name} "
                f"{self._text(self.right)} ({outcome})")


def error_rate_noise(p1: float, p2: float, n: int) -> float:
    """The standard error of the difference of two error rates p1, p2, each measured on ``n``
    independent test examples: √((p1(1 − p1) + p2(1 − p2)) / n). Two runs' test errors closer
    than this are not told apart by ``n`` examples."""
    if n < 1:
        raise ValueError(f"error_rate_noise: n must be at least 1, got {n}")
    return math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)


def paired_seeds(pairs: list[tuple[float, float]], n_test: int) -> dict[str, float]:
    """Two settings a and b trained in pairs, one pair per seed (each pair from the same initial
    weights on the same mini-batches), and the test error rate of each on ``n_test`` examples.

    A one-point effect (GoogLeNet's auxiliary heads, VGG's scale jittering) hides in the
    spread between seeds at a laptop's scale: the verdict compares the means, with a noise
    of the larger of ``error_rate_noise`` (the test set's sampling, the same for every seed)
    and two standard errors of the mean difference across the k seeds, 2·s/√k (none from one
    seed).

    Returns:
        ``mean_a``, ``mean_b``, ``difference`` (mean of b − a), ``standard_error`` and
        ``noise``.
    """
    k = len(pairs)
    if k < 1:
        raise ValueError("paired_seeds: no pairs; run at least one seed")
    diffs = [b - a for a, b in pairs]
    mean = sum(diffs) / k
    spread = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (k - 1)) if k > 1 else 0.0
    mean_a, mean_b = sum(a for a, _ in pairs) / k, sum(b for _, b in pairs) / k
    se = spread / math.sqrt(k)
    return {"mean_a": mean_a, "mean_b": mean_b, "difference": mean, "standard_error": se,
            "noise": max(error_rate_noise(mean_a, mean_b, n_test), 2 * se)}


def paired_rows(seeds: list[int], pairs: list[tuple[float, float]],
                summary: dict[str, float]) -> tuple[list[list[Any]], str]:
    """A report table of ``paired_seeds``: one row per seed (seed, a's and b's test error and
    b − a, in percent and points), then the means; and the sentence giving the standard error
    of the mean difference across seeds, for the table's caption."""
    rows = [[seed, 100 * a, 100 * b, 100 * (b - a)] for seed, (a, b) in zip(seeds, pairs)]
    rows.append(["mean", *(100 * summary[k] for k in ("mean_a", "mean_b", "difference"))])
    spread = (f"{100 * summary['standard_error']:.2f} points." if len(pairs) > 1 else
              "none from one seed.")
    return rows, f"Standard error of the mean difference across seeds: {spread}"


def judge(comparisons: list[Comparison], tested: str = "", untested: str = "") -> Verdict:
    """SUPPORTED when every comparison holds; CONTRADICTED when a measured one is in the wrong
    order by more than its noise; otherwise NOT SHOWN AT THIS SCALE (a missed bound, two
    measurements within their noise, or ``untested``: a part of the claim this run's scale
    could not test). ``tested`` says what the run tested ("at 16x16, 2 epochs") and starts the
    reason."""
    if not comparisons:
        raise ValueError("judge: a claim needs at least one comparison")
    failed = [c for c in comparisons if not c.holds]
    unresolved = [c for c in comparisons if not c.resolved]
    status = (CONTRADICTED if any(not c.bound and c.resolved for c in failed) else
              NOT_SHOWN if failed or unresolved or untested else SUPPORTED)
    reason = "; ".join(str(c) for c in comparisons)
    reason = f"{tested}: {reason}" if tested else reason
    reason += f"; not tested at this scale: {untested}" if untested else ""
    return Verdict(status == SUPPORTED, reason, status)


@dataclass
class Experiment:
    """One curriculum experiment.

    Args:
        name: the command-line name (``neuralab run NAME``), lowercase with dashes.
        lecture: the course session it belongs to, e.g. ``"L7"`` or ``"VGG"``.
        title: a short title for reports.
        claim: the lecture's claim in one line; the verdict says whether the run supports it.
        run: ``run(cfg, ctx) -> dict`` does the work, recording through the ``RunContext``
            ``ctx`` (:mod:`neuralab.lab.runner`), and returns JSON-serializable results.
        verdict: ``verdict(results, cfg) -> Verdict``.
        defaults: the full-mode configuration (every key a user may override).
        quick: the keys that differ in quick mode (< 2 minutes on two cores).
        runtime: the expected full-mode runtime in words ("3 min").
        setup: a paragraph describing the setup for the report (``{key}`` fields are filled
            from the configuration).
        scales: named presets of a full run (``{"paper": {"image_size": 32, ...}}``), chosen
            with the configuration key ``scale`` (``neuralab run NAME scale=paper``), whose
            default names the scale ``defaults`` describe (``runtime`` is that scale's).
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
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for mode, keys in (("quick-mode", self.quick),
                           *((f"scale {name!r}", preset) for name, preset in self.scales.items())):
            unknown = sorted(set(keys) - set(self.defaults))
            if unknown:
                raise ValueError(f"Experiment {self.name!r}: {mode} keys {unknown} have no "
                                 "full-mode default; every key must appear in defaults "
                                 f"({sorted(self.defaults)})")
        if self.scales and self.defaults.get("scale") not in self.scales:
            raise ValueError(f"Experiment {self.name!r}: defaults['scale'] must name one of "
                             f"its scales {sorted(self.scales)}, got "
                             f"{self.defaults.get('scale')!r}")

    def preset(self, scale: Any) -> dict[str, Any]:
        """The configuration values of the scale ``scale``.

        Raises:
            ValueError: for a scale the experiment does not define, naming those it does.
        """
        if scale not in self.scales:
            raise ValueError(f"run {self.name}: scale={scale!r} is not one of its scales "
                             f"({', '.join(sorted(self.scales)) or 'none'})")
        return self.scales[scale]

    def config(self, quick: bool = False,
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The configuration of a run: defaults, then the chosen scale's values, then quick-mode
        values, then overrides."""
        overrides = overrides or {}
        preset = (self.preset(overrides.get("scale", self.defaults["scale"]))
                  if self.scales else {})
        return {**self.defaults, **preset, **(self.quick if quick else {}), **overrides}

    def describe(self, cfg: dict[str, Any]) -> str:
        """The setup paragraph with ``cfg``'s values filled in (as written, when a field is
        not a configuration key)."""
        try:
            return self.setup.format(**cfg)
        except (KeyError, IndexError, ValueError):
            return self.setup
