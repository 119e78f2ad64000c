"""Lecture 6: backpropagation computes exactly the gradients the chain rule gives by hand.

Checked in float64 on the lecture's graph z = wx + b, y = σ(z), L = ½(y − t)² (drawn with each
node's value and bar x̄ = ∂L/∂x), and on a two-layer MLP whose gradients are written out by hand
as the lecture derives them, against autograd and central finite differences."""

from __future__ import annotations

from typing import Any

from neuralab.autograd import Tensor, central_differences, relative_error
from neuralab.backend import xp
from neuralab.diagnostics.graph import draw_graph, trace_graph
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.nn import Linear, Sequential, Sigmoid
from neuralab.ops.elementwise import sigmoid


def hand_gradients(x: Any, t: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> dict[str, Any]:
    """The two-layer MLP's gradients by hand: each bar from the bars of the values it feeds."""
    z = x @ w1.T + b1                # (N, H)
    h = 1.0 / (1.0 + xp.exp(-z))     # (N, H)
    y = h @ w2.T + b2                # (N, K)
    y_bar = (y - t) / len(x)         # L = 1/(2N) Σ ‖y − t‖²
    w2_bar = y_bar.T @ h             # (K, H)
    b2_bar = y_bar.sum(axis=0)
    h_bar = y_bar @ w2               # (N, H)
    z_bar = h_bar * h * (1.0 - h)    # σ'(z) = σ(z)(1 − σ(z))
    w1_bar = z_bar.T @ x             # (H, D)
    b1_bar = z_bar.sum(axis=0)
    return {"0.weight": w1_bar, "0.bias": b1_bar, "2.weight": w2_bar, "2.bias": b2_bar}


def run(cfg: dict, ctx: Any) -> dict:
    # 1. The univariate graph, recorded by autograd and drawn with every node's value and bar.
    x, t, w, b = (Tensor(cfg[k], dtype=xp.float64, requires_grad=k in "wb") for k in "xtwb")
    wx = w * x
    z = wx + b
    y = sigmoid(z)
    r = y - t
    r2 = r ** 2
    loss = 0.5 * r2
    nodes, ops = trace_graph(loss, {"x": x, "t": t, "w": w, "b": b, "wx": wx, "z": z, "y": y,
                                    "y − t": r, "(y − t)²": r2, "L": loss})
    for node in (wx, z, y, r, r2, loss):
        node.retain_grad()  # keep every intermediate value's bar for the figure
    loss.backward()
    fig, ax = ctx.subplots()
    columns = draw_graph(ax, nodes, ops, "z = wx + b,  y = σ(z),  L = ½(y − t)²")
    fig.set_size_inches(1.45 * columns + 1, 4.2)
    ctx.figure("computation_graph", fig, "The recorded graph: blue boxes are leaves, green boxes "
               "intermediate values, yellow circles ops; a box shows its value and bar ∂L/∂(node).")
    # The chain rule by hand (Lecture 6): L̄ = 1, ȳ = y − t, z̄ = ȳ σ'(z), w̄ = z̄ x, b̄ = z̄.
    yv = 1.0 / (1.0 + float(xp.exp(-(cfg["w"] * cfg["x"] + cfg["b"]))))
    y_bar = yv - cfg["t"]
    z_bar = y_bar * yv * (1 - yv)
    by_hand = {y: y_bar, z: z_bar, w: z_bar * cfg["x"], b: z_bar}
    graph_error = max(relative_error(bar, node.grad.item()) for node, bar in by_hand.items())

    # 2. A two-layer MLP on a random batch: by hand, by autograd, by finite differences.
    generator = xp.random.default_rng(ctx.seed)
    n, d, hdim, k = cfg["batch"], cfg["inputs"], cfg["hidden"], cfg["outputs"]
    model = Sequential(Linear(d, hdim), Sigmoid(), Linear(hdim, k)).double()
    inputs, targets = generator.standard_normal((n, d)), generator.standard_normal((n, k))

    def mlp_loss() -> Any:
        diff = model(Tensor(inputs, dtype=xp.float64)) - Tensor(targets, dtype=xp.float64)
        return (diff * diff).sum() * (0.5 / n)

    mlp_loss().backward()
    params = dict(model.named_parameters())
    hand = hand_gradients(inputs, targets, *(p.array for p in params.values()))
    auto = {name: p.grad.array.copy() for name, p in params.items()}
    numeric = {name: central_differences(lambda: float(mlp_loss().item()), p.array,
                                         eps=cfg["eps"]).reshape(p.shape)
               for name, p in ctx.progress(params.items(), desc="finite differences")}
    return {"graph_ops": len(ops), "graph_max_rel_error": graph_error,
            "mlp_hand_vs_autograd": max(relative_error(hand[name], auto[name]) for name in params),
            "mlp_autograd_vs_finite_diff": max(relative_error(auto[name], numeric[name])
                                               for name in params)}


def verdict(results: dict, cfg: dict) -> Verdict:
    """By hand and by backprop agree to rounding; both match finite differences (fd_tolerance)."""
    return judge([
        Comparison("graph: backprop vs chain rule by hand (max rel. error)",
                   results["graph_max_rel_error"], "<", "rounding", 1e-10, bound=True, fmt=".1e"),
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
