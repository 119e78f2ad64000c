"""The traced computation graph: its nodes, ops and names, and its drawing with the bars."""

from __future__ import annotations

import pytest

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.diagnostics.graph import draw_graph, trace_graph
from neuralab.ops.elementwise import sigmoid
from neuralab.plotting import subplots


def _lecture_graph():
    """L = (σ(wx + b) − t)², every value kept in a variable (the graph holds intermediate
    values only weakly)."""
    v = {"x": Tensor(1.5, dtype=xp.float64), "t": Tensor(0.0, dtype=xp.float64),
         "w": Tensor(0.8, dtype=xp.float64, requires_grad=True),
         "b": Tensor(-0.3, dtype=xp.float64, requires_grad=True)}
    v["wx"] = v["w"] * v["x"]
    v["z"] = v["wx"] + v["b"]
    v["y"] = sigmoid(v["z"])
    v["r"] = v["y"] - v["t"]
    v["L"] = v["r"] ** 2
    return v


def test_trace_finds_every_op_and_value_back_to_the_leaves():
    v = _lecture_graph()
    nodes, ops = trace_graph(v["L"], {"w": v["w"], "z": v["z"], "L": v["L"]})
    # w*x, +b, σ, −t, **2: five ops; ten values (four leaves, the exponent 2, five op outputs:
    # z and L named, the others t1, t2, t3; unnamed leaves are "const").
    assert sorted(name for name, _, _ in ops) == ["Add", "Mul", "Pow", "Sigmoid", "Sub"]
    names = [name for _, name in nodes]
    assert names[0] == "L" and "w" in names and "z" in names and len(nodes) == 10
    assert {id(node) for node, _ in nodes} >= {id(value) for value in v.values()}
    assert sum(not node.is_leaf for node, _ in nodes) == len(ops)  # one output per op
    assert sorted(name for node, name in nodes
                  if not node.is_leaf and name not in ("z", "L")) == ["t1", "t2", "t3"]


def test_drawing_shows_values_and_bars_after_backward():
    v = _lecture_graph()
    nodes, ops = trace_graph(v["L"], {"w": v["w"], "b": v["b"], "z": v["z"], "L": v["L"]})
    v["z"].retain_grad()
    v["L"].backward()
    fig, ax = subplots()
    columns = draw_graph(ax, nodes, ops, "lecture 6")
    assert columns == 2 * len(ops) + 1  # a chain: leaves, then an op and its output per step
    texts = [text.get_text() for text in ax.texts]
    y = 1 / (1 + xp.exp(-(0.8 * 1.5 - 0.3)))
    z_bar = 2 * y * y * (1 - y)  # ȳ = 2(y − t) with t = 0, times σ'(z)
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
