"""Reports as Markdown and self-contained HTML (train.report), and reading metrics.jsonl back."""

from __future__ import annotations

import base64

import pytest

from neuralab.train.report import fmt, to_html, to_markdown, write_report
from neuralab.train.rundir import read_metrics

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR"
                       "9awAAAABJRU5ErkJggg==")

BLOCKS = [("h1", "MLP <on> MNIST"), ("p", "Test accuracy **97.9%** with `lr=0.1`."),
          ("callout", True, "SUPPORTED: better"), ("h2", "Results"),
          ("table", ["model", "error"], [["mlp", fmt(0.02125)], ["a|b", fmt(1e-7)]], "Errors"),
          ("figure", "curve.png", "The loss")]


def test_numbers_are_formatted_for_reading():
    assert [fmt(v) for v in (0.123456, 1e-7, 2.5e6, 3, True, None, float("nan"), [0.5, 2])] \
        == ["0.1235", "1.000e-07", "2.500e+06", "3", "True", "—", "nan", "[0.5, 2]"]


def test_markdown_has_every_block():
    md = to_markdown(BLOCKS)
    assert md.startswith("# MLP <on> MNIST\n") and "\n## Results\n" in md
    assert "> **SUPPORTED: better**" in md and "Test accuracy **97.9%**" in md
    assert "| model | error |" in md and "| mlp | 0.02125 |" in md
    assert "| a\\|b | 1.000e-07 |" in md  # a pipe inside a cell does not split it
    assert "![The loss](curve.png)" in md


def test_html_escapes_marks_up_and_embeds_figures(tmp_path):
    (tmp_path / "curve.png").write_bytes(PNG)
    page = to_html(BLOCKS, tmp_path)
    assert "<title>MLP &lt;on&gt; MNIST</title>" in page and "<h1>MLP &lt;on&gt; MNIST</h1>" in page
    assert "<strong>97.9%</strong>" in page and "<code>lr=0.1</code>" in page
    assert '<p class="callout yes">' in page and "<td>0.02125</td>" in page
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page
    assert 'src="curve.png"' in to_html(BLOCKS, tmp_path / "elsewhere")  # not found: a link
    with pytest.raises(ValueError, match="unknown block kind 'h3'"):
        to_html([("h3", "x")], tmp_path)


def test_write_report_writes_both_files(tmp_path):
    md, page = write_report(tmp_path, BLOCKS)
    assert md.read_text(encoding="utf-8") == to_markdown(BLOCKS)
    assert page.read_text(encoding="utf-8") == to_html(BLOCKS, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_read_metrics_skips_lines_cut_by_a_crash(tmp_path):
    (tmp_path / "metrics.jsonl").write_bytes(b'{"step": 1, "loss": 0.5}\n[1, 2]\n\n'
                                             b'{"step": 2, "loss": 0.4}\n{"step": 3, "lo\xff')
    assert read_metrics(tmp_path) == [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.4}]
