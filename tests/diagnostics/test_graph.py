"""The traced computation graph: its nodes, ops and names, and its drawing with the bars."""

from __future__ import annotations

import pytest

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.diagnostics.graph import draw_graph, trace_graph
from neuralab.ops.elementwise import sigmoid
from neuralab.plotting import subplots


def _lecture_graph():
    x, t = Tensor(1.5, dtype=xp.float64), Tensor(0.0, dtype=xp.float64)
    w = Tensor(0.8, dtype=xp.float64, requires_grad=True)
    b = Tensor(-0.3, dtype=xp.float64, requires_grad=True)
    wx = w * x
    z = wx + b
    y = sigmoid(z)
    r = y - t
    r2 = r ** 2
    loss = 0.5 * r2
    # Every value stays in a variable: the graph holds intermediate values only weakly.
    return {"x": x, "t": t, "w": w, "b": b, "wx": wx, "z": z, "y": y, "r": r, "r2": r2,
            "L": loss}


def test_trace_finds_every_op_and_value_back_to_the_leaves():
    v = _lecture_graph()
    x, t, w, b, z, loss = (v[k] for k in ("x", "t", "w", "b", "z", "L"))
    nodes, ops = trace_graph(loss, {"w": w, "z": z, "L": loss})
    # w*x, +b, σ, −t, **2, 0.5*: six ops; ten values (four leaves, the two constants, four
    # intermediate values besides z and L are named t1..).
    assert len(ops) == 6
    assert sorted(name for name, _, _ in ops) == sorted(
        ["Mul", "Add", "Sigmoid", "Sub", "Pow", "Mul"]), [name for name, _, _ in ops]
    names = [name for _, name in nodes]
    assert names[0] == "L" and "w" in names and "z" in names
    assert {id(node) for node, _ in nodes} >= {id(x), id(t), id(w), id(b), id(z), id(loss)}
    assert sum(not node.is_leaf for node, _ in nodes) == len(ops)  # one output per op
    assert all(name.startswith("t") for node, name in nodes
               if not node.is_leaf and name not in ("z", "L"))


def test_drawing_shows_values_and_bars_after_backward():
    v = _lecture_graph()
    w, z, loss = v["w"], v["z"], v["L"]
    nodes, ops = trace_graph(loss, {"w": w, "b": v["b"], "z": z, "L": loss})
    z.retain_grad()
    loss.backward()
    fig, ax = subplots()
    columns = draw_graph(ax, nodes, ops, "lecture 6")
    assert columns == 2 * len(ops) + 1  # a chain: leaves, then an op and its output per step
    texts = [text.get_text() for text in ax.texts]
    y = 1 / (1 + xp.exp(-(0.8 * 1.5 - 0.3)))
    z_bar = y * y * (1 - y)  # ȳ = y − t with t = 0, times σ'(z)
    assert f"z\n= {0.9:.4g}\nbar = {z_bar:.4g}" in texts
    assert f"w\n= 0.8\nbar = {z_bar * 1.5:.4g}" in texts
    assert sum(name in ("Mul", "Add", "Sigmoid", "Sub", "Pow") for name in texts) == len(ops)
    assert ax.get_title() == "lecture 6"


def test_trace_rejects_a_non_tensor_and_a_freed_value():
    with pytest.raises(TypeError, match="trace_graph: root must be a Tensor"):
        trace_graph(0.5)
    w = Tensor([0.8], requires_grad=True)
    with pytest.raises(ValueError, match="an input of Mul is gone"):
        trace_graph((w * 2.0) * 3.0)
