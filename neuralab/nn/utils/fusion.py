"""Folding an evaluation-mode batch norm into the preceding convolution or linear layer.

In evaluation mode batch norm is the affine map y = γ (z − μ) / √(σ² + ε) + β with fixed running
statistics (Lecture 8), and z = W x + b is affine too, so their composition is one layer with
W' = W · γ / √(σ² + ε) (per output channel) and b' = (b − μ) · γ / √(σ² + ε) + β: the same
outputs for one layer's cost at inference.
"""

from __future__ import annotations

import copy
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module, Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _array(t: Any) -> Any:
    return t.array if isinstance(t, Tensor) else xp.asarray(t)


def _check_eval(layer: Module, bn: Module, op: str) -> None:
    if layer.training or bn.training:
        raise AssertionError(f"{op}: Fusion only for eval! Call .eval() on both the "
                             f"{layer._get_name()} and the {bn._get_name()} first "
                             "(in training, batch norm uses the batch's statistics)")
    if getattr(bn, "running_mean", None) is None or getattr(bn, "running_var", None) is None:
        raise AssertionError(f"{op}: the batch norm has no running statistics "
                             "(track_running_stats=False), so there is nothing to fold")


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of ``conv`` whose weight and bias include the evaluation-mode ``bn`` after it.

    Args:
        conv: a convolution in eval mode.
        bn: the batch norm that follows it, in eval mode.
        transpose: ``conv`` is a transposed convolution (output channels on dimension 1).
    """
    _check_eval(conv, bn, "fuse_conv_bn_eval")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The fused (weight, bias) Parameters: W · γ/√(σ² + ε) per output channel and
    (b − μ) · γ/√(σ² + ε) + β (a missing bias, γ or β counts as 0, 1, 0)."""
    w = _array(conv_w)
    w_dtype = w.dtype
    b_dtype = _array(conv_b).dtype if conv_b is not None else w_dtype
    rm = _array(bn_rm)
    b = _array(conv_b) if conv_b is not None else xp.zeros_like(rm)
    gamma = _array(bn_w) if bn_w is not None else xp.ones_like(rm)
    beta = _array(bn_b) if bn_b is not None else xp.zeros_like(rm)
    rsqrt = 1.0 / xp.sqrt(_array(bn_rv) + bn_eps)
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (w.ndim - 2)
    fused_w = (w * (gamma * rsqrt).reshape(shape)).astype(w_dtype)
    fused_b = ((b - rm) * rsqrt * gamma + beta).astype(b_dtype)
    b_grad = conv_b.requires_grad if conv_b is not None else False
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, b_grad)


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of ``linear`` whose weight and bias include the evaluation-mode ``bn`` after it.

    ``bn.num_features`` must equal ``linear.out_features`` (or be 1).
    """
    _check_eval(linear, bn, "fuse_linear_bn_eval")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or "
                             f"bn.num_features == 1 (got out_features={linear.out_features}, "
                             f"num_features={bn.num_features})")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor,
                           bn_b: Tensor) -> tuple[Parameter, Parameter]:
    """The fused (weight, bias) Parameters: W · γ/√(σ² + ε) per output row and
    (b − μ) · γ/√(σ² + ε) + β."""
    w = _array(linear_w)
    w_dtype = w.dtype
    b_dtype = _array(linear_b).dtype if linear_b is not None else w_dtype
    rm = _array(bn_rm)
    b = _array(linear_b) if linear_b is not None else xp.zeros_like(rm)
    scale = _array(bn_w) / xp.sqrt(_array(bn_rv) + bn_eps)
    fused_w = w * scale[..., None].astype(w_dtype)
    fused_b = ((b - rm) * scale + _array(bn_b)).astype(b_dtype)
    b_grad = linear_b.requires_grad if linear_b is not None else False
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, b_grad)
