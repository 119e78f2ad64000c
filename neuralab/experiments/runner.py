"""Running an experiment into a run directory, and the context an experiment's ``run`` receives.

A run directory holds everything needed to re-render its report without running again::

    runs/NAME-YYYYmmdd-HHMMSS/
        config.json    the experiment, mode, seed and the full configuration
        metrics.jsonl  one JSON object per logged measurement (series, step, values)
        *.png          the figures
        results.json   the returned results, tables, figure captions, notes and the verdict
        report.md      the report as Markdown
        report.html    the same report, self-contained (figures embedded, CSS inline)
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neuralab.experiments.base import Experiment, Verdict, get
from neuralab.fileio import atomic_path, atomic_write_bytes
from neuralab.plotting import subplots, tidy_figure
from neuralab.utils.tensorboard import SummaryWriter

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no literal for them
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def parse_overrides(experiment: Experiment, pairs: list[str]) -> dict[str, Any]:
    """Parse ``key=value`` command-line overrides, typed by the type of each key's default.

    Booleans accept true/false/yes/no/1/0; lists and tuples take comma-separated items typed by
    the default's first item; a default of None takes JSON or, failing that, the raw string.

    Raises:
        ValueError: for a malformed pair, an unknown key (listing the valid ones) or a value that
            does not convert.
    """
    out: dict[str, Any] = {}
    valid = ", ".join(f"{k}={v!r}" for k, v in experiment.defaults.items())
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"run {experiment.name}: override {pair!r} is not key=value; valid "
                             f"keys (with their defaults): {valid}")
        key, text = pair.split("=", 1)
        key = key.strip()
        if key not in experiment.defaults:
            raise ValueError(f"run {experiment.name}: unknown configuration key {key!r}; valid "
                             f"keys (with their defaults): {valid}")
        out[key] = _convert(experiment.name, key, text, experiment.defaults[key])
    return out


def _convert(name: str, key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            word = text.strip().lower()
            if word not in _BOOL_WORDS:
                raise ValueError("expected true/false")
            return _BOOL_WORDS[word]
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, (list, tuple)):
            items = [t.strip() for t in text.split(",") if t.strip()]
            kind = type(default[0]) if default else str
            values = [_convert(name, key, t, kind()) if kind is not str else t for t in items]
            return type(default)(values)
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
    """What an experiment's ``run(cfg, ctx)`` uses to record its work.

    Attributes:
        out_dir: the run directory.
        quick: whether this is a quick-mode run.
        seed: the seed the run was started with (already applied to neuralab and NumPy).
    """

    def __init__(self, out_dir: Path, quick: bool = False, seed: int = 0,
                 progress: bool | None = None, tensorboard: bool = False):
        self.out_dir = Path(out_dir)
        self.quick = quick
        self.seed = seed
        self.figures: list[dict[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.notes: list[str] = []
        # Progress bars only where someone watches (a terminal), unless asked.
        self._progress = sys.stderr.isatty() if progress is None else progress
        # Line-buffered: a long run's metrics can be followed (tail -f) while it runs.
        self._metrics = open(self.out_dir / "metrics.jsonl", "a", buffering=1,  # noqa: SIM115
                             encoding="utf-8")
        # With tensorboard, every logged number and every figure also goes to TensorBoard.
        self._board = SummaryWriter(self.out_dir / "tensorboard") if tensorboard else None

    @property
    def show_progress(self) -> bool:
        """Whether progress bars are shown (a terminal, unless the run was told otherwise)."""
        return self._progress

    # ---------------------------------------------------------------- recording
    def log(self, series: str = "metrics", step: int | None = None, **values: Any) -> None:
        """Append one measurement to ``metrics.jsonl``: ``ctx.log("train", step=3, loss=.5)``."""
        row: dict[str, Any] = {"series": series}
        if step is not None:
            row["step"] = int(step)
        row.update(values)
        self._metrics.write(json.dumps(to_jsonable(row)) + "\n")
        if self._board is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._board.add_scalar(f"{series}/{key}", value, step)

    def log_rows(self, rows: Iterable[dict[str, Any]], series: str = "metrics") -> None:
        """Append many measurements (dicts) at once, e.g. a diagnostics recorder's records."""
        for row in rows:
            self.log(series=row.get("series", series),
                     **{k: v for k, v in row.items() if k != "series"})

    def figure(self, name: str, fig: Any, caption: str = "") -> Path:
        """Save a matplotlib figure as ``NAME.png`` in the run directory and close it."""
        import matplotlib.pyplot as plt

        path = self.out_dir / f"{name}.png"
        tidy_figure(fig)
        if self._board is not None:
            self._board.add_figure(name, fig, close=False)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
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
                 desc: str = "") -> Any:
        """A tqdm progress bar around ``iterable`` (silent when stderr is not a terminal)."""
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, disable=not self._progress, leave=False)

    def subplots(self, *args: Any, **kwargs: Any) -> Any:
        """``(fig, axes)`` as from ``matplotlib.pyplot.subplots`` (Agg backend, lazy import)."""
        return subplots(*args, **kwargs)

    def close(self) -> None:
        self._metrics.close()
        if self._board is not None:
            self._board.close()


def default_out_dir(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_experiment(
    name: str,
    quick: bool = False,
    out_dir: str | Path | None = None,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    progress: bool | None = None,
    tensorboard: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run the experiment ``name`` into ``out_dir`` and write its report.

    Args:
        name: a registered experiment name.
        quick: use the quick-mode configuration (< 2 minutes on two cores).
        out_dir: the run directory (default ``runs/NAME-TIMESTAMP``); created if missing.
        seed: seeds neuralab's generator and NumPy's global one before the run.
        overrides: configuration values replacing the defaults (already typed).
        progress: show progress bars (default: when stderr is a terminal).
        tensorboard: also write the logged curves and the figures to ``out_dir/tensorboard``.

    Returns:
        The run directory and the saved ``results.json`` content.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed, before pyplot is first imported
    import numpy

    from neuralab.backend import manual_seed

    experiment = get(name)
    cfg = experiment.config(quick=quick, overrides=overrides)
    out = Path(out_dir) if out_dir is not None else default_out_dir(name)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    if (out / "metrics.jsonl").exists():
        (out / "metrics.jsonl").unlink()  # a rerun into the same directory starts afresh
    config = {"experiment": name, "lecture": experiment.lecture,
              "mode": "quick" if quick else "full",
              "seed": seed, "config": to_jsonable(cfg), "overrides": to_jsonable(overrides or {}),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_bytes(out / "config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))

    manual_seed(seed)
    numpy.random.seed(seed)
    if cfg.get("threads", 0) > 0:  # the ``threads`` key of the experiments that have one
        # Small products gain nothing from several threads, and on a busy machine threads that
        # spin waiting for each other make every step many times slower.
        from neuralab.parallel import set_num_threads

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
    verdict = experiment.verdict(results, cfg)
    saved = {"results": results, "tables": ctx.tables, "figures": ctx.figures, "notes": ctx.notes,
             "verdict": verdict.as_dict(), "elapsed_s": round(elapsed, 2)}
    atomic_write_bytes(out / "results.json", (json.dumps(saved, indent=2) + "\n").encode("utf-8"))

    from neuralab.experiments.report import render_report

    render_report(out)
    return out, saved


def load_verdict(saved: dict[str, Any]) -> Verdict:
    """The verdict saved in a ``results.json`` (runs saved before ``status`` existed included)."""
    return Verdict.from_dict(saved.get("verdict") or {})

