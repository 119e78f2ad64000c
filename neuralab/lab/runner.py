"""Running an experiment into a run directory, and the context its ``run(cfg, ctx)`` records with.

A run directory holds everything needed to re-render its report without running again::

    runs/NAME-YYYYmmdd-HHMMSS/
        config.json    the experiment, mode, seed and the full configuration
        metrics.jsonl  one JSON object per logged measurement (series, step, values)
        *.png          the figures
        results.json   the returned results, tables, figure captions, notes and the verdict
        report.md      the report as Markdown, and report.html, self-contained
"""

from __future__ import annotations

import difflib
import json
import math
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neuralab.backend import manual_seed, xp
from neuralab.fileio import atomic_path, atomic_write_bytes
from neuralab.lab.experiment import Experiment
from neuralab.lab.report import render_report
from neuralab.parallel import set_num_threads
from neuralab.plotting import subplots, tidy_figure
from neuralab.progress import Progress
from neuralab.utils.tensorboard import SummaryWriter

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}


def to_jsonable(value: Any) -> Any:
    """NumPy scalars/arrays, tuples, paths and non-finite floats as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy values
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no literal for them
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value) if isinstance(value, Path) else repr(value)


def parse_overrides(experiment: Experiment, pairs: list[str]) -> dict[str, Any]:
    """``key=value`` overrides, typed by each key's default and checked before the run.

    Booleans accept true/false/yes/no/1/0; lists and tuples take comma-separated items typed by
    the default's first item; a default of None takes JSON or, failing that, the raw string.
    An integer whose defaults are positive (a step count, a size; the full and the quick
    mode's, so that a 0 either mode uses stays allowed) must stay positive, one whose default is
    0 must not go negative, a learning rate (``*lr``, ``*lrs``) must be positive,
    and no number may be NaN or infinite.

    Raises:
        ValueError: for a malformed pair, an unknown key (with the closest valid one), a value
            that does not convert or an absurd one.
    """
    name, defaults = experiment.name, experiment.defaults
    valid = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or key not in defaults:
            close = difflib.get_close_matches(key, list(defaults), n=1, cutoff=0.6)
            problem = (f"override {pair!r} is not key=value" if not sep else
                       f"unknown configuration key {key!r}"
                       + (f"; did you mean {close[0]}=?" if close else ""))
            raise ValueError(f"run {name}: {problem}; valid keys (with their defaults): {valid}")
        out[key] = _convert(name, key, text, defaults[key])
        # The quick mode's value counts as a default too: its 0 ("at the end only") is valid.
        lowest = min((defaults[key], experiment.quick[key]), key=_sign_key) \
            if key in experiment.quick else defaults[key]
        _check_sign(name, key, out[key], lowest, defaults[key])
    if "scale" in out and experiment.scales:
        experiment.preset(out["scale"])  # an unknown scale, named before the run starts
    return out


def _sign_key(value: Any) -> float:
    """A number's own value, anything else as +inf (a scalar default's lowest wins)."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if numeric else math.inf


def _check_sign(name: str, key: str, value: Any, lowest: Any, default: Any) -> None:
    """Refuse a value whose sign ``lowest`` (the lower of the two modes' values) rules out;
    the message names ``default`` (the full mode's)."""
    pairs = (list(zip(value, lowest)) if isinstance(value, (list, tuple)) and
             isinstance(lowest, (list, tuple)) and lowest else [(value, lowest)])
    for v, d in pairs:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                isinstance(d, bool) or not isinstance(d, (int, float)):
            continue  # only numbers have a sign
        count = isinstance(d, int) and isinstance(v, int)
        positive = d > 0 and (count or key.endswith(("lr", "lrs")))
        if not math.isfinite(v) or (positive and v <= 0) or (count and d >= 0 and v < 0):
            raise ValueError(f"run {name}: {key}={value!r} must be "
                             f"{'positive' if d > 0 else 'non-negative'} and finite (the "
                             f"default is {default!r})")


def _convert(name: str, key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if text.strip().lower() not in _BOOL_WORDS:
                raise ValueError("expected true/false")
            return _BOOL_WORDS[text.strip().lower()]
        if isinstance(default, (list, tuple)):
            kind = type(default[0]) if default else str
            items = [t.strip() for t in text.split(",") if t.strip()]
            return type(default)(_convert(name, key, t, kind()) if kind is not str else t
                                 for t in items)
        if default is None:
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text
        return type(default)(text)
    except (TypeError, ValueError) as err:
        raise ValueError(f"run {name}: cannot read {key}={text!r} as {type(default).__name__} "
                         f"(the default is {default!r}): {err}") from None


class RunContext:
    """What an experiment's ``run(cfg, ctx)`` records its work with.

    Attributes:
        out_dir: the run directory.
        quick: whether this is a quick-mode run.
        seed: the seed the run was started with (already applied to neuralab and NumPy).
        show_progress: whether progress bars are drawn (a terminal, unless told otherwise).
    """

    def __init__(self, out_dir: Path, quick: bool = False, seed: int = 0,
                 progress: bool | None = None, tensorboard: bool = False):
        self.out_dir, self.quick, self.seed = Path(out_dir), quick, seed
        self.show_progress = sys.stderr.isatty() if progress is None else progress
        self.figures: list[dict[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.notes: list[str] = []
        # Line-buffered: a long run's metrics can be followed (tail -f) while it runs.
        self._metrics = open(self.out_dir / "metrics.jsonl", "a", buffering=1,  # noqa: SIM115
                             encoding="utf-8")
        self._board = SummaryWriter(self.out_dir / "tensorboard") if tensorboard else None

    def log(self, series: str = "metrics", step: int | None = None, **values: Any) -> None:
        """Append one measurement to ``metrics.jsonl``: ``ctx.log("train", step=3, loss=.5)``."""
        row: dict[str, Any] = {"series": series, **({} if step is None else {"step": int(step)}),
                               **values}
        self._metrics.write(json.dumps(to_jsonable(row)) + "\n")
        if self._board is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._board.add_scalar(f"{series}/{key}", value, step)

    def log_rows(self, rows: Iterable[dict[str, Any]], series: str = "metrics") -> None:
        """Append many measurements (dicts) at once, e.g. a diagnostics recorder's records."""
        for row in rows:
            self.log(**{"series": series, **row})

    def figure(self, name: str, fig: Any, caption: str = "") -> Path:
        """Save a matplotlib figure as ``NAME.png`` in the run directory and close it."""
        import matplotlib.pyplot as plt  # matplotlib is optional (the train extra)

        path = self.out_dir / f"{name}.png"
        tidy_figure(fig)
        if self._board is not None:
            self._board.add_figure(name, fig, close=False)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append({"file": path.name, "caption": caption})
        return path

    def table(self, name: str, columns: list[str], rows: list[list[Any]],
              caption: str = "") -> None:
        """Record a table for the report (also kept in results.json)."""
        self.tables.append({"name": name, "columns": list(columns),
                            "rows": to_jsonable([list(r) for r in rows]), "caption": caption})

    def note(self, text: str) -> None:
        """Add a paragraph to the report's results section."""
        self.notes.append(text)

    def progress(self, iterable: Iterable | None = None, total: int | None = None,
                 desc: str = "") -> Progress:
        """A progress bar around ``iterable`` (or counted by ``update``)."""
        return Progress(iterable, total=total, desc=desc, enabled=self.show_progress)

    def subplots(self, *args: Any, **kwargs: Any) -> Any:
        """``(fig, axes)`` as from ``matplotlib.pyplot.subplots`` (Agg backend)."""
        return subplots(*args, **kwargs)

    def close(self) -> None:
        self._metrics.close()
        if self._board is not None:
            self._board.close()


def run(experiment: Experiment, quick: bool = False, out_dir: str | Path | None = None,
        seed: int = 0, overrides: dict[str, Any] | None = None, progress: bool | None = None,
        tensorboard: bool = False) -> tuple[Path, dict[str, Any]]:
    """Run ``experiment`` into ``out_dir`` and write its report.

    Args:
        experiment: the experiment (``neuralab.experiments.get(name)`` for a registered one).
        quick: use the quick-mode configuration (< 2 minutes on two cores).
        out_dir: the run directory (default ``runs/NAME-TIMESTAMP``); created if missing.
        seed: seeds neuralab's generator and NumPy's global one before the run.
        overrides: configuration values replacing the defaults (already typed).
        progress: show progress bars (default: when stderr is a terminal).
        tensorboard: also write the logged curves and the figures to ``out_dir/tensorboard``.

    Returns:
        The run directory and the saved ``results.json`` content.
    """
    name = experiment.name
    cfg = experiment.config(quick=quick, overrides=overrides)
    out = Path(out_dir or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.jsonl").unlink(missing_ok=True)  # a rerun into the same directory
    config = {"experiment": name, "lecture": experiment.lecture, "title": experiment.title,
              "claim": experiment.claim, "setup": experiment.describe(cfg),
              "mode": "quick" if quick else "full", "seed": seed, "config": to_jsonable(cfg),
              "overrides": to_jsonable(overrides or {}),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_bytes(out / "config.json", (json.dumps(config, indent=2) + "\n").encode())
    manual_seed(seed)
    xp.random.seed(seed)
    if cfg.get("threads", 0) > 0:
        # Small products gain nothing from several threads, and on a busy machine threads that
        # spin waiting for each other make every step many times slower.
        set_num_threads(int(cfg["threads"]))
    ctx = RunContext(out, quick=quick, seed=seed, progress=progress, tensorboard=tensorboard)
    start = time.perf_counter()
    try:
        results = experiment.run(cfg, ctx)
    except BaseException as err:
        ctx.close()
        if created and not ctx.figures and (out / "metrics.jsonl").stat().st_size == 0:
            shutil.rmtree(out, ignore_errors=True)  # failed before measuring anything
        else:  # keep what was measured, and say why the run stopped
            atomic_write_bytes(out / "FAILED.txt", f"{type(err).__name__}: {err}\n".encode())
        raise
    ctx.close()
    elapsed = time.perf_counter() - start
    results = to_jsonable(results or {})
    saved = {"results": results, "tables": ctx.tables, "figures": ctx.figures, "notes": ctx.notes,
             "verdict": experiment.verdict(results, cfg).as_dict(),
             "elapsed_s": round(elapsed, 2)}
    atomic_write_bytes(out / "results.json", (json.dumps(saved, indent=2) + "\n").encode())
    render_report(out)
    return out, saved
