"""Check the gradients of a whole model, layer by layer, against finite differences (Lecture 6).

``neuralab gradcheck MODEL`` builds a model of the registry in float64 with a small random batch
and compares, for every parameter, the backpropagated ∂L/∂w with the central difference

    ∂L/∂w_i ≈ (L(w_i + ε) − L(w_i − ε)) / 2ε

at a few sampled elements (always including the one with the largest gradient), where
L = Σ model(x) · v for a fixed random v. Then, for every leaf layer, it checks the gradient with
respect to the layer's own input the same way, with the layer run alone on the input it received
inside the model. A bug in any one backward therefore shows up in the row of that layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neuralab.autograd import Tensor, central_differences, no_grad, relative_error
from neuralab.backend import manual_seed, xp
from neuralab.models.registry import create, get_entry
from neuralab.progress import Progress

__all__ = ["GradcheckRow", "ModelGradcheck", "gradcheck_model"]


@dataclass
class GradcheckRow:
    """One checked tensor: a parameter of the model or a layer's input."""

    layer: str
    kind: str          # the module's class name
    tensor: str        # "weight", "bias", ... or "input"
    shape: tuple[int, ...]
    checked: int       # elements compared
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass
class ModelGradcheck:
    """The result of :func:`gradcheck_model`: one row per parameter and per layer input."""

    model: str
    input_shape: tuple[int, ...]
    rows: list[GradcheckRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.rows), default=0.0)

    def __str__(self) -> str:
        head = ["layer", "type", "tensor", "shape", "checked", "max abs err", "max rel err", "ok"]
        body = [[r.layer, r.kind, r.tensor, "x".join(map(str, r.shape)), str(r.checked),
                 f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}", "yes" if r.passed else "NO"]
                for r in self.rows]
        widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
        lines = [f"gradcheck {self.model}: input {self.input_shape}, float64, central "
                 "differences"]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
        failed = sum(not r.passed for r in self.rows)
        lines.append(f"{len(self.rows)} tensors checked, {failed} failed; worst relative error "
                     f"{self.max_rel_error:.2e}")
        return "\n".join(lines)


def _first_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _sample(grad: Any, samples: int, generator: Any) -> list[int]:
    """Flat indices to check: the largest gradient, then random others."""
    size = grad.size
    if size <= samples:
        return list(range(size))
    chosen = {int(xp.argmax(xp.abs(grad)))}
    chosen.update(int(i) for i in generator.choice(size, samples - 1, replace=False))
    return sorted(chosen)


def _compare(analytic: Any, numeric: Any, atol: float, rtol: float) -> tuple[float, float, bool]:
    error = xp.abs(analytic - numeric)
    passed = bool((error <= atol + rtol * xp.abs(numeric)).all())
    return float(error.max(initial=0.0)), relative_error(analytic, numeric, floor=atol), passed


def gradcheck_model(
    model: Any,
    input_shape: tuple[int, ...] | None = None,
    batch_size: int = 2,
    samples: int = 6,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    name: str | None = None,
    progress: bool | None = True,
) -> ModelGradcheck:
    """Finite-difference check of every parameter and every layer's input gradient, in float64.

    Args:
        model: a registry name (``"lenet5"``) or an ``nn.Module``.
        input_shape: the shape of one example without the batch; by default the registry's
            ``input_shape`` for the model.
        batch_size: examples in the random batch.
        samples: elements compared per tensor (the largest gradient plus random ones).
        seed: seeds the input, the projection v, the sampled elements and every dropout mask
            (re-seeded before each forward, so the loss is a deterministic function).
        eps, atol, rtol: the finite-difference step and the tolerances
            (pass where ``|analytic − numeric| <= atol + rtol·|numeric|``).
        name: the name shown in the report (defaults to the registry name or the class name).
        progress: show a bar over the checked tensors (only on a terminal).

    Returns:
        A :class:`ModelGradcheck` whose ``str`` is a table, one row per tensor.
    """
    if isinstance(model, str):
        entry = get_entry(model)
        name = name or entry.name
        if input_shape is None:
            input_shape = entry.meta.get("input_shape")
        manual_seed(seed)
        model = create(entry.name)
    name = name or type(model).__name__
    if input_shape is None:
        raise ValueError(f"gradcheck_model: no input_shape for {name}; pass one such as "
                         "(1, 28, 28) (the shape of one example, without the batch)")
    if samples < 1 or batch_size < 1:
        raise ValueError(f"gradcheck_model: samples and batch_size must be >= 1, got "
                         f"samples={samples}, batch_size={batch_size}")
    model = model.double()
    generator = xp.random.default_rng(seed)
    x = Tensor(generator.standard_normal((batch_size, *input_shape)), dtype=xp.float64)
    report = ModelGradcheck(name, tuple(input_shape))

    # Record each leaf layer's input during one forward pass.
    leaves = [(n, m) for n, m in model.named_modules()
              if n and not any(True for _ in m.children())]
    seen: dict[str, tuple] = {}
    handles = []
    for layer_name, module in leaves:
        def keep(mod: Any, args: tuple, layer_name: str = layer_name) -> None:
            seen.setdefault(layer_name, tuple(
                Tensor(a.array.copy(), dtype=a.dtype) if isinstance(a, Tensor) else a
                for a in args))
        handles.append(module.register_forward_pre_hook(keep))

    def forward() -> Tensor:
        manual_seed(seed)  # identical dropout masks in every evaluation
        out = _first_tensor(model(x))
        if out is None:
            raise TypeError(f"gradcheck_model: {name} returned no tensor")
        return out

    out = forward()
    for handle in handles:
        handle.remove()
    v = generator.standard_normal(out.shape)

    def loss_value() -> float:
        with no_grad():
            return float((forward().array * v).sum())

    model.zero_grad()
    (forward() * Tensor(v, dtype=xp.float64)).sum().backward()
    owners = {}
    for layer_name, module in leaves:
        for pname, param in module.named_parameters(recurse=False):
            owners[id(param)] = (layer_name, type(module).__name__, pname)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    bar = Progress(None, total=len(params) + len(leaves), desc=f"gradcheck {name}",
                   unit="tensor", enabled=progress)
    for full_name, param in params:
        bar.update(1)
        layer, kind, pname = owners.get(id(param), (full_name.rsplit(".", 1)[0], "?",
                                                    full_name.rsplit(".", 1)[-1]))
        analytic = (param.grad.array if param.grad is not None else xp.zeros(param.shape))
        index = _sample(analytic, samples, generator)
        numeric = central_differences(loss_value, param.array, index, eps)
        abs_err, rel_err, ok = _compare(analytic.reshape(-1)[index], numeric, atol, rtol)
        report.rows.append(GradcheckRow(layer, kind, pname, tuple(param.shape), len(index),
                                        abs_err, rel_err, ok))

    # Each layer alone: the gradient with respect to its input.
    for layer_name, module in leaves:
        bar.update(1)
        args = seen.get(layer_name)
        if not args or not isinstance(args[0], Tensor) or args[0].dtype.kind != "f":
            continue
        # A little noise breaks the exact ties a ReLU leaves behind (a max-pool window of zeros),
        # where the derivative is undefined and finite differences would see half of it.
        x_data = args[0].array.astype(xp.float64)
        x_data = x_data + 1e-3 * (float(x_data.std()) or 1.0) * generator.standard_normal(
            x_data.shape)
        x_in = Tensor(x_data, dtype=xp.float64, requires_grad=True)
        rest = args[1:]

        def run_layer(module: Any = module, rest: tuple = rest, x_in: Tensor = x_in) -> Tensor:
            manual_seed(seed)
            return _first_tensor(module(x_in, *rest))

        y = run_layer()
        if y is None or not y.requires_grad:
            continue
        w = generator.standard_normal(y.shape)
        (y * Tensor(w, dtype=xp.float64)).sum().backward()
        analytic = x_in.grad.array if x_in.grad is not None else xp.zeros(x_in.shape)
        index = _sample(analytic, samples, generator)
        numeric = central_differences(lambda run=run_layer, w=w: float((run().array * w).sum()),
                                      x_in.array, index, eps)
        abs_err, rel_err, ok = _compare(analytic.reshape(-1)[index], numeric, atol, rtol)
        report.rows.append(GradcheckRow(layer_name, type(module).__name__, "input",
                                        tuple(x_in.shape), len(index), abs_err, rel_err, ok))
    model.zero_grad()
    order = {layer_name: i for i, (layer_name, _) in enumerate(leaves)}
    report.rows.sort(key=lambda r: (order.get(r.layer, len(order)), r.tensor != "input"))
    bar.close()
    return report
