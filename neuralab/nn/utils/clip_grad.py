"""Training utilities: gradient clipping, flattening parameters, and an L1 penalty (Lecture 9)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from neuralab import devices
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module
from neuralab.ops.elementwise import abs as abs_
from neuralab.ops.reduce import sum as sum_
from neuralab.ops.shape import cat, reshape

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters",
    "l1_penalty", "get_total_norm", "clip_grads_with_norm_", "skip_init",
]


def _as_list(parameters: Any) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, Module):
        return list(parameters.parameters())
    return list(parameters)


def _total_norm(arrays: list, norm_type: float) -> float:
    """‖(‖a₁‖, ‖a₂‖, ...)‖ of order ``norm_type``, in float64 (the largest |value| for inf)."""
    if norm_type == math.inf:
        return max(float(xp.abs(a).max()) if a.size else 0.0 for a in arrays)
    norms = [xp.linalg.norm(a.ravel().astype(xp.float64), norm_type) for a in arrays]
    return float(xp.linalg.norm(xp.asarray(norms), norm_type))


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients in place so that their total norm is at most ``max_norm``.

    The total norm is ‖(‖g₁‖, ‖g₂‖, ...)‖ over every parameter's gradient (the norm of all
    gradients concatenated); when it exceeds ``max_norm`` every gradient is multiplied by
    max_norm / (total + 10⁻⁶). Used against exploding gradients in recurrent nets (Lecture 15).

    Args:
        parameters: a Tensor, an iterable of Tensors, or a Module.
        max_norm: the largest allowed norm.
        norm_type: p of the p-norm (``float('inf')`` for the largest absolute value).
        error_if_nonfinite: raise when the total norm is nan or inf.

    Returns:
        The total norm before clipping, as a 0-d Tensor.
    """
    grads = [p.grad.array for p in _as_list(parameters) if p.grad is not None]
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    if not grads:
        return Tensor._from_op(xp.asarray(0.0, dtype=xp.float32), None, 0)
    norm_type = float(norm_type)
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
            "so they cannot be clipped; set error_if_nonfinite=False to skip the check, and "
            "look for a division by zero or log(0) in the loss"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= g.dtype.type(coef)
    return Tensor._from_op(xp.asarray(total, dtype=grads[0].dtype), None, 0)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clip every gradient element into [−clip_value, clip_value] in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            xp.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([reshape(p, -1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters in place (inverse of
    ``parameters_to_vector``)."""
    params = _as_list(parameters)
    data = vec.array if isinstance(vec, Tensor) else xp.asarray(vec)
    if data.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-d, got shape {data.shape}")
    total = sum(p.array.size for p in params)
    if data.size != total:
        raise ValueError(f"vector_to_parameters: vec has {data.size} elements but the parameters "
                         f"hold {total}")
    start = 0
    for p in params:
        n = p.array.size
        p.array[...] = data[start:start + n].reshape(p.shape)
        start += n


def l1_penalty(parameters_or_module: Any, weight: float = 1.0) -> Tensor:
    """The L1 regularizer weight · Σ|w| over the given parameters (Lecture 9, regularization).

    Add it to the loss: its gradient weight·sign(w) pushes weights to exactly zero, giving sparse
    networks (unlike weight decay, the L2 penalty, which only shrinks them).

    Args:
        parameters_or_module: a Module (all its parameters) or an iterable of Tensors (e.g.
            only the weights: ``[m.weight for m in model.modules() if isinstance(m, Linear)]``).
        weight: the regularization strength λ.

    Returns:
        A differentiable 0-d Tensor.
    """
    params = _as_list(parameters_or_module)
    if not params:
        raise ValueError("l1_penalty: no parameters given")
    total = sum_(abs_(params[0]))
    for p in params[1:]:
        total = total + sum_(abs_(p))
    return total * weight if weight != 1.0 else total


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The p-norm of the norms of ``tensors`` (usually the gradients): the norm of all of them
    concatenated, as ``clip_grad_norm_`` computes it (PyTorch 2.6's first half of it).

    Args:
        tensors: a Tensor or an iterable of Tensors (e.g. ``[p.grad for p in params]``).
        norm_type: p (``float('inf')`` for the largest absolute value).
        error_if_nonfinite: raise when the total is nan or inf.
        foreach: accepted for PyTorch compatibility.

    Returns:
        A 0-d Tensor (0.0 for no tensors), of the first tensor's dtype.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    if not tensors:
        return Tensor._from_op(xp.asarray(0.0, dtype=xp.float32), None, 0)
    norm_type = float(norm_type)
    arrays = [t.array if isinstance(t, Tensor) else xp.asarray(t) for t in tensors]
    total = _total_norm(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._from_op(xp.asarray(total, dtype=arrays[0].dtype), None, 0)


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Any,
                          foreach: bool | None = None) -> None:
    """Multiply every gradient in place by min(1, max_norm / (total_norm + 10⁻⁶)), the second
    half of ``clip_grad_norm_`` (``total_norm`` from :func:`get_total_norm`, possibly reduced
    over several processes first).

    Args:
        parameters: a Tensor, an iterable of Tensors, or a Module.
        max_norm: the largest allowed norm.
        total_norm: the total norm of the gradients (a Tensor or a number).
        foreach: accepted for PyTorch compatibility.
    """
    grads = [p.grad.array for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    total = float(total_norm.array if isinstance(total_norm, Tensor) else total_norm)
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= g.dtype.type(coef)


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Module:
    """Build ``module_cls(*args, **kwargs)`` for weights that will be overwritten anyway (loaded
    from a checkpoint, or a custom initialization).

    PyTorch builds the module on the "meta" device and allocates empty memory, so its values
    are arbitrary; here the module is built normally (its values are the default
    initialization, which is one possible arbitrary content). ``device`` is accepted and
    checked.
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    devices.check(kwargs.pop("device", None), "skip_init")
    return module_cls(*args, **kwargs)
