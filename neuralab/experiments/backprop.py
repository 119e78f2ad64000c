"""Lecture 6: backpropagation computes exactly the gradients the chain rule gives by hand.

Two parts:

1. The computation graph of the lecture's univariate example z = wx + b, y = σ(z),
   L = ½(y − t)², drawn from the Contexts that autograd recorded, with the value and the
   gradient (the "bar" quantity, x̄ = ∂L/∂x) at each node.
2. A two-layer MLP (sigmoid hidden layer, linear output, squared error) whose gradients are
   written out by hand in array code as the lecture derives them::

       ȳ = (y − t) / N
       W̄⁽²⁾ = ȳᵀ h            b̄⁽²⁾ = Σₙ ȳ
       h̄ = ȳ W⁽²⁾
       z̄ = h̄ ⊙ σ'(z) = h̄ ⊙ h ⊙ (1 − h)
       W̄⁽¹⁾ = z̄ᵀ x            b̄⁽¹⁾ = Σₙ z̄

   compared with autograd and with central finite differences, in float64.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor, central_differences, relative_error
from neuralab.backend import xp
from neuralab.diagnostics.graph import draw_graph, trace_graph
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Linear, Sequential, Sigmoid
from neuralab.ops.elementwise import sigmoid
from neuralab.plotting import bar_groups


def univariate_graph(cfg: dict, ctx: Any) -> dict:
    """z = wx + b, y = σ(z), L = ½(y − t)²: autograd's gradients at every node vs the chain rule."""
    x, t, w, b = (Tensor(cfg[k], dtype=xp.float64, requires_grad=k in "wb") for k in "xtwb")
    wx = w * x
    z = wx + b
    y = sigmoid(z)
    r = y - t
    r2 = r ** 2
    loss = 0.5 * r2
    nodes, ops = trace_graph(loss, {"x": x, "t": t, "w": w, "b": b, "wx": wx, "z": z, "y": y,
                                    "y − t": r, "(y − t)²": r2, "L": loss})
    for node, _ in nodes:
        if not node.is_leaf:
            node.retain_grad()  # keep every intermediate value's bar for the figure
    loss.backward()
    fig, ax = ctx.subplots()
    columns = draw_graph(ax, nodes, ops, "z = wx + b,  y = σ(z),  L = ½(y − t)²")
    fig.set_size_inches(1.45 * columns + 1, 4.2)
    ctx.figure("computation_graph", fig, "The recorded computation graph: blue boxes are leaves, "
               "green boxes intermediate values, yellow circles the ops; each box shows the value "
               "and the gradient bar = ∂L/∂(node) after backward().")

    # The chain rule by hand (Lecture 6): L̄ = 1, ȳ = y − t, z̄ = ȳ σ'(z), w̄ = z̄ x, b̄ = z̄.
    yv = 1.0 / (1.0 + float(xp.exp(-(cfg["w"] * cfg["x"] + cfg["b"]))))
    y_bar = yv - cfg["t"]
    z_bar = y_bar * yv * (1 - yv)
    hand = {"y": y_bar, "z": z_bar, "w": z_bar * cfg["x"], "b": z_bar}
    auto = {"y": y.grad.item(), "z": z.grad.item(), "w": w.grad.item(), "b": b.grad.item()}
    rows = [[k, hand[k], auto[k], relative_error(hand[k], auto[k])] for k in hand]
    ctx.table("univariate", ["node", "chain rule by hand", "autograd", "relative error"], rows,
              caption="Gradients at the nodes of the univariate graph")
    return {"graph_ops": len(ops), "graph_max_rel_error": max(r[3] for r in rows)}


# ------------------------------------------------------------------ the two-layer MLP
def hand_gradients(x: Any, t: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> dict[str, Any]:
    """The two-layer MLP's gradients, derived by hand (see the module docstring)."""
    n = x.shape[0]
    z = x @ w1.T + b1                # (N, H)
    h = 1.0 / (1.0 + xp.exp(-z))     # (N, H)
    y = h @ w2.T + b2                # (N, K)
    y_bar = (y - t) / n              # L = 1/(2N) Σ ‖y − t‖²
    w2_bar = y_bar.T @ h             # (K, H)
    b2_bar = y_bar.sum(axis=0)
    h_bar = y_bar @ w2               # (N, H)
    z_bar = h_bar * h * (1.0 - h)    # σ'(z) = σ(z)(1 − σ(z))
    w1_bar = z_bar.T @ x             # (H, D)
    b1_bar = z_bar.sum(axis=0)
    return {"0.weight": w1_bar, "0.bias": b1_bar, "2.weight": w2_bar, "2.bias": b2_bar}


def mlp_check(cfg: dict, ctx: Any) -> dict:
    generator = xp.random.default_rng(ctx.seed)
    n, d, hdim, k = cfg["batch"], cfg["inputs"], cfg["hidden"], cfg["outputs"]
    model = Sequential(Linear(d, hdim), Sigmoid(), Linear(hdim, k)).double()
    x, t = generator.standard_normal((n, d)), generator.standard_normal((n, k))
    xs, ts = Tensor(x, dtype=xp.float64), Tensor(t, dtype=xp.float64)

    def loss_fn() -> Any:
        diff = model(xs) - ts
        return (diff * diff).sum() * (0.5 / n)

    model.zero_grad()
    loss_fn().backward()
    params = dict(model.named_parameters())
    auto = {name: p.grad.array.copy() for name, p in params.items()}
    hand = hand_gradients(x, t, *(p.array for p in params.values()))
    numeric = {name: central_differences(lambda: float(loss_fn().item()), p.array,
                                         eps=cfg["eps"]).reshape(p.shape)
               for name, p in ctx.progress(params.items(), desc="finite differences")}
    rows = [[name, "x".join(map(str, p.shape)), relative_error(hand[name], auto[name]),
             relative_error(hand[name], numeric[name]), relative_error(auto[name], numeric[name])]
            for name, p in params.items()]
    ctx.table("mlp", ["parameter", "shape", "hand vs autograd", "hand vs finite diff.",
                      "autograd vs finite diff."], rows,
              caption=f"Relative errors (max over elements) for a {d}-{hdim}-{k} MLP, batch {n}, "
                      f"float64, ε = {cfg['eps']:g}")
    fig, ax = ctx.subplots(figsize=(7, 3.6))
    bar_groups(ax, [r[0] for r in rows], {  # 1e-18: an exact zero has no place on a log axis
        label: [max(r[2 + j], 1e-18) for r in rows]
        for j, label in enumerate(["hand vs autograd", "hand vs FD", "autograd vs FD"])},
        width=0.81)
    ax.set(yscale="log", ylabel="max relative error",
           title="hand-derived gradients = backprop = finite differences")
    ax.legend(fontsize=8)
    ctx.figure("mlp_gradient_errors", fig, "Relative errors of the three ways of computing the "
               "gradient (float64; the finite-difference error is O(ε²) plus round-off).")
    return {"mlp_hand_vs_autograd": max(r[2] for r in rows),
            "mlp_hand_vs_finite_diff": max(r[3] for r in rows),
            "mlp_autograd_vs_finite_diff": max(r[4] for r in rows),
            "mlp_parameters": int(sum(p.array.size for p in params.values()))}


def run(cfg: dict, ctx: Any) -> dict:
    results = {**univariate_graph(cfg, ctx), **mlp_check(cfg, ctx)}
    ctx.note("Backpropagation reuses each node's gradient for all its inputs, so one backward "
             "pass costs about as much as the forward pass; the finite differences needed two "
             f"forward passes per parameter ({2 * results['mlp_parameters']} here).")
    return results


def verdict(results: dict, cfg: dict) -> Verdict:
    """Hand-derived and backpropagated gradients agree to rounding; both match finite
    differences within ``fd_tolerance``."""
    return judge([
        Comparison("graph: backprop vs chain rule by hand (max rel. error)",
                   results["graph_max_rel_error"], "<", "rounding", 1e-10, bound=True,
                   fmt=".1e"),
        Comparison("MLP: hand-derived vs autograd", results["mlp_hand_vs_autograd"], "<",
                   "rounding", 1e-10, bound=True, fmt=".1e"),
        Comparison("MLP: autograd vs finite differences", results["mlp_autograd_vs_finite_diff"],
                   "<", "the tolerance", cfg["fd_tolerance"], bound=True, fmt=".1e")])


EXPERIMENT = Experiment(
    name="backprop",
    lecture="L6",
    title="Backpropagation: by hand, by autograd and by finite differences",
    claim="Backpropagation computes exactly the gradients the chain rule gives by hand, and "
          "they match finite differences.",
    run=run,
    verdict=verdict,
    defaults={"x": 1.5, "t": 0.0, "w": 0.8, "b": -0.3, "batch": 16, "inputs": 5, "hidden": 8,
              "outputs": 3, "eps": 1e-6, "fd_tolerance": 1e-6},
    quick={"batch": 8, "inputs": 4, "hidden": 6},
    runtime="5 s",
    setup="A univariate graph z = wx + b, y = σ(z), L = ½(y − t)² with x = {x}, w = {w}, b = {b}, "
          "t = {t}; and a {inputs}-{hidden}-{outputs} MLP (sigmoid hidden layer, linear output, "
          "L = 1/(2N) Σ‖y − t‖²) on a random batch of {batch}, all in float64, finite differences "
          "with ε = {eps}.",
)
