"""Rendering a run directory into ``report.md`` and a self-contained ``report.html``.

The report is built from what the run saved (config.json, metrics.jsonl, results.json and the
PNG figures), so ``neuralab report RUN_DIR`` can re-render it at any time. It states the claim,
the setup, the measured results and whether they support the claim.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

from neuralab.experiments.base import Verdict
from neuralab.fileio import atomic_write_bytes

_CSS = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.verdict { padding: .6em 1em; border-radius: 6px; font-weight: 600; }
.yes { background: #e6f4ea; border: 1px solid #34a853; }
.no { background: #fce8e6; border: 1px solid #ea4335; }
figure { margin: 1em 0; }
/* A figure shows at its own size (several panels side by side stay legible), centred on the
   text column and at most as wide as the window. */
figure img { display: block; max-width: calc(100vw - 3em); position: relative; left: 50%;
             transform: translateX(-50%); border: 1px solid #eee; }
figcaption, .caption { color: #555; font-size: .9em; }
code { background: #f5f5f5; padding: 0 .2em; }
"""


def fmt(value: Any) -> str:
    """A number as a reader wants it: 4 significant digits, scientific when tiny or huge."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"report: {path} is missing; is {path.parent} a run directory "
                                "written by `neuralab run`?")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # truncated or edited by hand
        raise ValueError(f"report: {path} is damaged ({err}); run the experiment again") \
            from None
    if not isinstance(content, dict):
        raise ValueError(f"report: {path} is damaged (a JSON object was expected); run the "
                         "experiment again")
    return content


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's ``metrics.jsonl`` (empty if none were logged)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line) if line.strip() else None
        except ValueError:  # a line cut short by a crash
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _blocks(run_dir: Path) -> list[tuple]:
    """The report as a list of blocks, rendered to Markdown and to HTML alike."""
    from neuralab.experiments import base

    config = _read_json(run_dir / "config.json")
    saved = _read_json(run_dir / "results.json")
    name = config.get("experiment")
    if not isinstance(name, str):
        raise ValueError(f"report: {run_dir / 'config.json'} is damaged (it names no experiment); "
                         "run the experiment again")
    cfg = config.get("config", {})
    experiment = base.experiments().get(name)
    verdict = saved.get("verdict", {})
    if experiment is not None:  # recompute: the verdict rule may have been refined since
        try:
            verdict = experiment.verdict(saved.get("results", {}), cfg).as_dict()
        except Exception:  # noqa: BLE001 - fall back on the saved verdict
            pass
    title = experiment.title if experiment else name
    claim = experiment.claim if experiment else config.get("claim", "")
    blocks: list[tuple] = [("h1", f"{title} ({name}, {config.get('lecture', '?')})")]
    blocks.append(("p", f"**Claim.** {claim}"))
    supported = bool(verdict.get("supported"))
    word = Verdict.from_dict(verdict).word
    blocks.append(("verdict", supported, f"{word}: {verdict.get('reason', '')}"))

    blocks.append(("h2", "Setup"))
    if experiment is not None and experiment.setup:
        try:
            blocks.append(("p", experiment.setup.format(**cfg)))
        except (KeyError, IndexError, ValueError):
            blocks.append(("p", experiment.setup))
    blocks.append(("p", f"Mode: **{config.get('mode')}**, seed {config.get('seed')}, "
                        f"run time {fmt(saved.get('elapsed_s'))} s."))
    blocks.append(("table", ["key", "value"], [[k, fmt(v)] for k, v in cfg.items()],
                   "Configuration" + (f" (overrides: {', '.join(config['overrides'])})"
                                      if config.get("overrides") else "")))

    blocks.append(("h2", "Results"))
    for text in saved.get("notes", []):
        blocks.append(("p", text))
    scalars = [[k, fmt(v)] for k, v in saved.get("results", {}).items()
               if isinstance(v, (int, float, str, bool)) or v is None
               or (isinstance(v, list) and len(v) <= 8
                   and all(isinstance(i, (int, float, str, bool)) or i is None for i in v))]
    if scalars:
        blocks.append(("table", ["result", "value"], scalars, "Measured values"))
    for table in saved.get("tables", []):
        rows = [[fmt(v) for v in row] for row in table["rows"]]
        blocks.append(("table", table["columns"], rows, table.get("caption") or table["name"]))
    for figure in saved.get("figures", []):
        blocks.append(("figure", figure["file"], figure.get("caption", "")))

    metrics = read_metrics(run_dir)
    if metrics:
        series: dict[str, list[dict]] = {}
        for row in metrics:
            series.setdefault(row.get("series", "metrics"), []).append(row)
        rows = []
        for key, items in series.items():
            last = {k: v for k, v in items[-1].items() if k != "series"}
            shown = ", ".join(f"{k}={fmt(v)}" for k, v in list(last.items())[:6])
            rows.append([key, len(items), shown])
        blocks.append(("h2", "Logged metrics"))
        blocks.append(("table", ["series", "rows", "last row"], rows,
                       "From metrics.jsonl (every logged measurement is there)"))
    return blocks


def _md_inline(text: str) -> str:
    return text


def _html_inline(text: str) -> str:
    """Escape, then turn **bold** and `code` into tags (the only inline markup reports use)."""
    out = html.escape(text)
    parts = out.split("**")
    out = "".join(p if i % 2 == 0 else f"<strong>{p}</strong>" for i, p in enumerate(parts))
    parts = out.split("`")
    return "".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts))


def _to_markdown(blocks: list[tuple]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "p":
            lines += [_md_inline(block[1]), ""]
        elif kind == "verdict":
            lines += [f"> **{block[2]}**", ""]
        elif kind == "table":
            _, columns, rows, caption = block
            if caption:
                lines += [f"*{caption}*", ""]
            lines.append("| " + " | ".join(str(c) for c in columns) + " |")
            lines.append("|" + "|".join(" --- " for _ in columns) + "|")
            for row in rows:
                cells = [str(c).replace("|", "\\|") for c in row]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        elif kind == "figure":
            _, file, caption = block
            lines += [f"![{caption}]({file})", "", f"*{caption}*" if caption else "", ""]
    return "\n".join(lines).rstrip() + "\n"


def _to_html(blocks: list[tuple], run_dir: Path) -> str:
    body: list[str] = []
    title = "neuralab report"
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            title = block[1]
            body.append(f"<h1>{html.escape(block[1])}</h1>")
        elif kind == "h2":
            body.append(f"<h2>{html.escape(block[1])}</h2>")
        elif kind == "p":
            body.append(f"<p>{_html_inline(block[1])}</p>")
        elif kind == "verdict":
            css = "yes" if block[1] else "no"
            body.append(f'<p class="verdict {css}">{_html_inline(block[2])}</p>')
        elif kind == "table":
            _, columns, rows, caption = block
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
            cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                            + "</tr>" for row in rows)
            cap = f'<caption class="caption">{html.escape(caption)}</caption>' if caption else ""
            body.append(f"<table>{cap}<tr>{head}</tr>{cells}</table>")
        elif kind == "figure":
            _, file, caption = block
            path = run_dir / file
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                src = f"data:image/png;base64,{data}"
            else:
                src = file
            body.append(f'<figure><img src="{src}" alt="{html.escape(caption)}">'
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def render_report(run_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` for a run directory; returns their paths.

    Raises:
        FileNotFoundError: when the directory lacks config.json or results.json.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"report: no run directory at {run_dir}")
    blocks = _blocks(run_dir)
    md, page = run_dir / "report.md", run_dir / "report.html"
    atomic_write_bytes(md, _to_markdown(blocks).encode("utf-8"))
    atomic_write_bytes(page, _to_html(blocks, run_dir).encode("utf-8"))
    return md, page
