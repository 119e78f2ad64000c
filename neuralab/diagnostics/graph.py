"""The computation graph autograd recorded, traced back from a result and drawn (Lecture 6).

Every op applied to a Tensor that requires gradients leaves a Context (the result's
``grad_fn``) holding its inputs. Walking these from the loss back to the leaves gives the
lecture's computation graph: the nodes are the values (leaves: inputs and parameters;
intermediate values: the ops' outputs) and each op joins its inputs to its output. After
``loss.backward()`` every node v carries its "bar" quantity v̄ = ∂L/∂v (leaves in ``.grad``;
intermediate values too once ``retain_grad()`` was called on them before backward). The graph
holds an intermediate value only while something else does, so keep a variable for each one.

Example::

    wx = w * x; z = wx + b; y = F.sigmoid(z); r = y - t; r2 = r ** 2; loss = 0.5 * r2
    nodes, ops = trace_graph(loss, {"w": w, "z": z, "L": loss})
    for node, _ in nodes:
        if not node.is_leaf:
            node.retain_grad()
    loss.backward()
    fig, ax = subplots()
    draw_graph(ax, nodes, ops)
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor

__all__ = ["draw_graph", "trace_graph"]


def trace_graph(root: Tensor, names: dict[str, Tensor] | None = None) -> tuple[list, list]:
    """Walk the graph from ``root`` back to the leaves.

    Args:
        root: the result (usually the loss).
        names: the name of some of the tensors (``{"w": w, "z": z}``); the others are called
            ``t1``, ``t2``, ... (intermediate values) or ``const`` (leaves).

    Returns:
        ``(nodes, ops)``: nodes as ``(tensor, name)``, ops as ``(op name, input tensors, output
        tensor)``, in the order the walk finds them (root first).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"trace_graph: root must be a Tensor, got {type(root).__name__}")
    named = {id(t): name for name, t in (names or {}).items()}
    found, ops, stack = {id(root): root}, [], [root]
    while stack:
        t = stack.pop()
        if t.grad_fn is not None:
            op, inputs = t.grad_fn.function.__name__, list(t.grad_fn.inputs)
            if any(parent is None for parent in inputs):
                raise ValueError(f"trace_graph: an input of {op} is gone (the graph holds only "
                                 "what backward needs); keep a variable for every value to draw")
            ops.append((op, inputs, t))
            for parent in inputs:
                if id(parent) not in found:
                    found[id(parent)] = parent
                    stack.append(parent)
    counter = iter(range(1, len(found) + 1))
    return [(t, named.get(id(t)) or ("const" if t.is_leaf else f"t{next(counter)}"))
            for t in found.values()], ops


def draw_graph(ax: Any, nodes: list, ops: list, title: str = "") -> int:
    """Draw a traced graph on the matplotlib axes ``ax``, left to right.

    Values are boxes (blue: leaves, green: intermediate values) showing a scalar's value and,
    after backward, its gradient ``bar = ∂L/∂(node)``; ops are yellow circles. Leaves sit in the
    first column, each op's output two columns after its deepest input, and a constant (the 2
    of a square) just before the op that uses it.

    Args:
        ax: the axes to draw on (their frame is switched off).
        nodes, ops: what :func:`trace_graph` returned.
        title: the axes' title.

    Returns:
        The number of columns (a figure about 1.5 inches per column reads well).
    """
    producer = {id(out): inputs for _, inputs, out in ops}
    depth: dict[int, int] = {}

    def node_depth(t: Tensor) -> int:
        if id(t) not in depth:
            depth[id(t)] = 2 + max(map(node_depth, producer[id(t)])) if id(t) in producer else 0
        return depth[id(t)]

    for t, _ in nodes:
        node_depth(t)
    for _, inputs, out in ops:
        for p in inputs:
            if p.is_leaf and not p.requires_grad:
                depth[id(p)] = max(depth[id(p)], depth[id(out)] - 2)
    columns: dict[int, list] = {}
    for t, _ in nodes:
        columns.setdefault(depth[id(t)], []).append(("t", t))
    for _, _, out in ops:
        columns.setdefault(depth[id(out)] - 1, []).append(("op", out))
    at = {(kind, id(t)): (col, (len(items) - 1) / 2 - row)
          for col, items in columns.items() for row, (kind, t) in enumerate(items)}

    arrow = {"arrowstyle": "-|>", "color": "#777", "shrinkA": 14, "shrinkB": 14}
    for op_name, inputs, out in ops:
        op_at = at[("op", id(out))]
        for p in inputs:
            ax.annotate("", xy=op_at, xytext=at[("t", id(p))], arrowprops=arrow)
        ax.annotate("", xy=at[("t", id(out))], xytext=op_at, arrowprops=arrow)
        ax.text(*op_at, op_name, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "circle", "fc": "#fff2cc", "ec": "#b8860b"})
    for t, name in nodes:
        label = name if t.array.size != 1 else f"{name}\n= {float(t.array.reshape(-1)[0]):.4g}"
        if t.grad is not None and t.grad.array.size == 1:
            label += f"\nbar = {float(t.grad.array.reshape(-1)[0]):.4g}"
        ax.text(*at[("t", id(t))], label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "fc": "#dae8fc" if t.is_leaf else "#d5e8d4",
                      "ec": "#555"})
    ys = [y for _, y in at.values()]
    ax.set(xlim=(-0.7, max(columns) + 0.7), ylim=(min(ys) - 0.9, max(ys) + 0.9), title=title)
    ax.axis("off")
    return max(columns) + 1
