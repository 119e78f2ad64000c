"""The older, hook-based ``nn.utils.weight_norm`` and ``nn.utils.spectral_norm``.

They rename the weight (``weight_g`` and ``weight_v``; ``weight_orig`` with buffers ``weight_u``,
``weight_v``) and recompute ``module.weight`` as a plain attribute in a forward pre-hook, once per
call. PyTorch keeps them for old checkpoints; new code uses ``nn.utils.parametrizations``.
"""

from __future__ import annotations

import warnings
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import rng
from neuralab.nn.module import Module, Parameter
from neuralab.nn.utils.parametrizations import (
    _const,
    _is_conv_transpose,
    _normalize,
    _weight_norm,
    norm_except_dim,
)
from neuralab.ops.linalg import mv
from neuralab.ops.reduce import sum as sum_
from neuralab.ops.shape import permute, reshape

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: w = g · v / ‖v‖."""

    def __init__(self, name: str, dim: int):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks:
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                                   f"{name}")
        fn = WeightNorm(name, dim)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"weight_norm: module {module._get_name()} has no parameter "
                             f"'{name}' (parameters: {list(module._parameters)})")
        del module._parameters[name]
        g = norm_except_dim(weight.detach(), fn.dim).array.copy()
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.array))
        module.__dict__[name] = fn.compute_weight(module)
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        module.__dict__.pop(self.name, None)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        del module.__dict__[self.name + "_g"], module.__dict__[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.array))

    def __call__(self, module: Module, inputs: Any) -> None:
        module.__dict__[self.name] = self.compute_weight(module)


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization with a hook (deprecated in PyTorch in favour of
    ``nn.utils.parametrizations.weight_norm``): replaces ``<name>`` by the parameters
    ``<name>_g`` (the norms, shaped like ``norm_except_dim``) and ``<name>_v`` (the direction);
    ``module.<name>`` = g · v / ‖v‖ is recomputed before every forward.

    Args:
        module: the module.
        name: the weight's name.
        dim: the dimension kept by the norm; None for the norm of the whole tensor.
    """
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``<name>`` becomes one Parameter holding g · v / ‖v‖."""
    return _remove_hook(module, WeightNorm, name, "weight_norm")


def _remove_hook(module: Module, kind: type, name: str, what: str) -> Module:
    """Remove the pre-hook of type ``kind`` for ``name`` (``what``: its function, for the
    error) and restore ``<name>`` as one Parameter."""
    for i, hook in enumerate(module._forward_pre_hooks):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[i]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module._get_name()}")


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: W / σ, σ = uᵀ W v by power iteration."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.eps = name, dim, eps
        self.n_power_iterations = n_power_iterations

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = permute(weight, self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return reshape(weight, (weight.shape[0], -1))

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:  # v first, then u (the order of PyTorch's hook)
            w = weight_mat.array
            for _ in range(self.n_power_iterations):
                v.array[...] = _normalize(w.T @ u.array, self.eps)
                u.array[...] = _normalize(w @ v.array, self.eps)
        u, v = _const(u.array.copy()), _const(v.array.copy())
        sigma = sum_(u * mv(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.array))

    def __call__(self, module: Module, inputs: Any) -> None:
        module.__dict__[self.name] = self.compute_weight(module,
                                                         do_power_iteration=module.training)

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks:
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: module {module._get_name()} has no parameter "
                             f"'{name}' (parameters: {list(module._parameters)})")
        h, w = fn.reshape_weight_to_matrix(weight.detach()).shape
        dtype = weight.array.dtype
        u = _normalize(rng().normal(0.0, 1.0, size=h).astype(dtype), eps)
        v = _normalize(rng().normal(0.0, 1.0, size=w).astype(dtype), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        # module.<name> stays readable (as the raw weight) until the first forward.
        module.__dict__[name] = weight.data
        module.register_buffer(name + "_u", _const(u))
        module.register_buffer(name + "_v", _const(v))
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization with a hook: the parameter ``<name>_orig``, the buffers
    ``<name>_u`` and ``<name>_v``, and ``module.<name>`` = W / σ(W) recomputed before every
    forward (with ``n_power_iterations`` power-iteration steps in training mode only).

    Args:
        module: the module.
        name: the weight's name.
        n_power_iterations: power-iteration steps per forward in training.
        eps: the floor of the norms in the normalizations.
        dim: the output dimension (default 0, 1 for ConvTranspose).
    """
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``<name>`` becomes one Parameter holding W / σ."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm")
