"""A run's report as Markdown and as one self-contained HTML page (figures embedded, CSS inline).

A report is a list of blocks, written once and rendered to both formats:

    ("h1", text)  ("h2", text)  ("p", text)         headings and paragraphs; text may hold
                                                    **bold** and `code`
    ("callout", good, text)                         a highlighted line (green when good)
    ("table", columns, rows, caption)               cells already formatted (see ``fmt``)
    ("figure", file, caption)                       a PNG in the run directory

    write_report(run_dir, [("h1", "MLP on MNIST"), ("p", "Test accuracy **97.9%**.")])
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from neuralab.fileio import atomic_write_bytes

__all__ = ["fmt", "to_html", "to_markdown", "write_report"]

_CSS = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.callout { padding: .6em 1em; border-radius: 6px; font-weight: 600; }
.yes { background: #e6f4ea; border: 1px solid #34a853; }
.no { background: #fce8e6; border: 1px solid #ea4335; }
/* A figure shows at its own size (several panels side by side stay legible), centred on the
   text column and at most as wide as the window. */
figure { margin: 1em 0; }
figure img { display: block; max-width: calc(100vw - 3em); position: relative; left: 50%;
             transform: translateX(-50%); border: 1px solid #eee; }
figcaption, .caption { color: #555; font-size: .9em; }
code { background: #f5f5f5; padding: 0 .2em; }
"""


def fmt(value: Any) -> str:
    """A number as a reader wants it: 4 significant digits, scientific when tiny or huge; "—"
    for None (a cell that does not apply)."""
    if value is None:
        return "—"
    if isinstance(value, float) and math.isfinite(value):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def to_markdown(blocks: list[tuple]) -> str:
    """The blocks as Markdown (figures linked by file name)."""
    lines: list[str] = []
    for kind, *rest in blocks:
        if kind in ("h1", "h2"):
            lines += [f"{'#' * int(kind[1])} {rest[0]}", ""]
        elif kind == "p":
            lines += [rest[0], ""]
        elif kind == "callout":
            lines += [f"> **{rest[1]}**", ""]
        elif kind == "table":
            columns, rows, caption = rest
            lines += [f"*{caption}*", ""] if caption else []
            lines.append("| " + " | ".join(str(c) for c in columns) + " |")
            lines.append("|" + "|".join(" --- " for _ in columns) + "|")
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
                      for row in rows]
            lines.append("")
        elif kind == "figure":
            file, caption = rest
            lines += [f"![{caption}]({file})", "", f"*{caption}*" if caption else "", ""]
        else:
            raise ValueError(f"to_markdown: unknown block kind {kind!r}")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escape, then turn **bold** and `code` into tags (the only inline markup reports use)."""
    parts = html.escape(text).split("**")
    out = "".join(p if i % 2 == 0 else f"<strong>{p}</strong>" for i, p in enumerate(parts))
    parts = out.split("`")
    return "".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts))


def to_html(blocks: list[tuple], run_dir: str | Path) -> str:
    """The blocks as one HTML page; figures found in ``run_dir`` are embedded as data URLs."""
    body: list[str] = []
    title = "neuralab report"
    for kind, *rest in blocks:
        if kind in ("h1", "h2"):
            title = rest[0] if kind == "h1" else title
            body.append(f"<{kind}>{html.escape(rest[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline(rest[0])}</p>")
        elif kind == "callout":
            body.append(f'<p class="callout {"yes" if rest[0] else "no"}">{_inline(rest[1])}</p>')
        elif kind == "table":
            columns, rows, caption = rest
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
            cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                            + "</tr>" for row in rows)
            cap = f'<caption class="caption">{html.escape(caption)}</caption>' if caption else ""
            body.append(f"<table>{cap}<tr>{head}</tr>{cells}</table>")
        elif kind == "figure":
            file, caption = rest
            path = Path(run_dir) / file
            src = (f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"
                   if path.exists() else file)
            body.append(f'<figure><img src="{src}" alt="{html.escape(caption)}">'
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        else:
            raise ValueError(f"to_html: unknown block kind {kind!r}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_report(run_dir: str | Path, blocks: list[tuple]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``run_dir`` (atomically); their paths."""
    md, page = Path(run_dir) / "report.md", Path(run_dir) / "report.html"
    atomic_write_bytes(md, to_markdown(blocks).encode("utf-8"))
    atomic_write_bytes(page, to_html(blocks, run_dir).encode("utf-8"))
    return md, page
