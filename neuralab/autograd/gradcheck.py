"""Gradient checking by central finite differences (Lecture 6: "always check your gradients").

For every input x that requires a gradient and every element x_i, the numerical derivative of
the scalar L = Σ (fn(inputs) · v) (v a fixed random projection of the output) is

    ∂L/∂x_i ≈ (L(x_i + ε) − L(x_i − ε)) / 2ε,

with error O(ε²). It is compared with the gradient backpropagation computes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.gradients import grad as autograd_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp


def central_differences(loss: Callable[[], float], x: Any, indices: Sequence[int] | None = None,
                        eps: float = 1e-6) -> Any:
    """(L(x_i + ε) − L(x_i − ε)) / 2ε for the flat indices ``indices`` of x (default: all).

    ``x`` is an array that ``loss()`` reads (a Tensor's ``.array``, contiguous or a strided view
    such as a slice); each element is moved by ±ε in place and restored. Runs without recording a
    graph. Returns a float64 array with one derivative per index (flat indices in C order).
    """
    flat = x.reshape(-1)  # a view when x is contiguous: writes go into x
    strided = flat.size and not xp.shares_memory(flat, x)  # an empty array shares nothing
    indices = range(flat.size) if indices is None else indices
    numeric = xp.empty(len(indices))
    target = x if strided else flat
    with no_grad():
        for j, i in enumerate(indices):
            where = xp.unravel_index(i, x.shape) if strided else i
            original = target[where]
            target[where] = original + eps
            plus = loss()
            target[where] = original - eps
            minus = loss()
            target[where] = original
            numeric[j] = (plus - minus) / (2 * eps)
    return numeric


def relative_error(a: Any, b: Any, floor: float = 1e-12) -> float:
    """max over elements of |a − b| / max(|a|, |b|): how many digits two gradients share
    (1e-16 is float64 rounding; a central difference agrees to about ε² plus round-off / ε).

    Args:
        a, b: arrays (or numbers) of the same shape (empty ones agree: 0).
        floor: the smallest denominator, so that two zeros agree (0/0 would be NaN).
    """
    a, b = xp.asarray(a, dtype=xp.float64), xp.asarray(b, dtype=xp.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: the shapes differ, {a.shape} and {b.shape}")
    scale = xp.maximum(xp.maximum(xp.abs(a), xp.abs(b)), floor)
    return float((xp.abs(a - b) / scale).max(initial=0.0))


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with finite differences."""


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [r for r in result if isinstance(r, Tensor) and r.dtype.kind == "f"]
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got "
                    f"{type(result).__name__}")


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Compare backpropagated gradients of ``fn`` with central finite differences in float64.

    Args:
        fn: a function of the inputs returning a Tensor (or a tuple of Tensors).
        inputs: Tensors (float64 ones that require grad are checked) and other arguments.
        eps: the finite-difference step ε.
        atol, rtol: the check passes where ``|analytic − numeric| <= atol + rtol·|numeric|``.
        raise_exception: raise :class:`GradcheckError` on failure (otherwise return False).
        seed: seed of the random output projection v.

    Returns:
        True when every gradient agrees.

    Raises:
        GradcheckError: naming the input, the worst element's index, both values and the
            relative error.
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors made with "
                         "requires_grad=True")
    for i in checked:
        if inputs[i].dtype != xp.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need "
                            "float64 inputs (use .double() or dtype=np.float64)")
    generator = xp.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    projections = [generator.standard_normal(o.shape) for o in outs]

    def scalar_loss() -> float:
        with no_grad():
            outs = _outputs(fn(*inputs))
            return float(sum((o.array * v).sum() for o, v in zip(outs, projections)))

    # Analytic: backpropagate the projection through the graph. As PyTorch's gradcheck, with
    # autograd.grad: the inputs may be non-leaves (a slice of a leaf), and .grad is untouched.
    outs = _outputs(fn(*inputs))
    loss = None
    for o, v in zip(outs, projections):
        if o.requires_grad:
            term = (o * Tensor(v, dtype=o.dtype)).sum()
            loss = term if loss is None else loss + term
    grads: tuple = (None,) * len(checked)
    if loss is not None:
        grads = autograd_grad(loss, [inputs[i] for i in checked], allow_unused=True)
    analytic = {i: xp.zeros(inputs[i].shape) if g is None else g.array.astype(xp.float64)
                for i, g in zip(checked, grads)}

    for i in checked:
        x = inputs[i].array
        numeric = central_differences(scalar_loss, x, eps=eps).reshape(x.shape)
        error = xp.abs(analytic[i] - numeric)
        allowed = atol + rtol * xp.abs(numeric)
        if (error > allowed).any():
            worst = xp.unravel_index(xp.argmax(error - allowed), x.shape)
            rel = error[worst] / max(abs(numeric[worst]), 1e-12)
            message = (
                f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at index "
                f"{tuple(int(j) for j in worst)}: backprop gives {analytic[i][worst]:.8g}, "
                f"finite differences give {numeric[worst]:.8g} (relative error {rel:.3g}, "
                f"atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
