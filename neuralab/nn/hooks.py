"""Module backward hooks as PyTorch's: ``register_full_backward_hook`` and
``register_full_backward_pre_hook``.

``hook(module, grad_input, grad_output)`` runs when the gradients with respect to the module's
inputs have been computed; ``grad_input`` has one entry per positional argument of the call
(None for arguments that are not Tensors or need no gradient) and ``grad_output`` one per Tensor
output. ``pre_hook(module, grad_output)`` runs when the gradients with respect to the outputs are
known, before the module's own backward. Either may return replacements.

How (the chain rule does the rest): the Tensor inputs that require grad pass through an identity
op before ``forward``, and the Tensor outputs through another after it. The identity's backward
sees exactly the gradient of what it wrapped: the outputs' one is ``grad_output``; the inputs'
one, ``grad_input``, arrives after the module's whole backward has run. When no input requires
grad, the hooks run with ``grad_input`` all None as soon as ``grad_output`` is known.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import RemovableHandle, Tensor
from neuralab.backend import xp


class BackwardHookFunction(Function):
    """y = x for each input (returned as they are); backward hands the incoming gradients to
    ``on_backward``, which returns the gradients to pass on (the hooks' replacements)."""

    @staticmethod
    def forward(ctx, *arrays, on_backward):
        ctx.on_backward = on_backward
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *douts):
        grads = ctx.on_backward(douts)
        return grads if len(grads) > 1 else grads[0]


class _Call:
    """The bookkeeping of one call of a module with backward hooks."""

    def __init__(self, module: Any, n_args: int, positions: list[int]):
        self.module = module
        self.n_args = n_args
        self.positions = positions  # the arguments that went through the input identity
        self.grad_output: tuple = ()


def _as_tensor(d: Any) -> Tensor:
    return Tensor._from_op(d, None, 0)


def _as_array(g: Any, like: Any, what: str) -> Any:
    if g is None:
        return None
    array = g.array if isinstance(g, Tensor) else xp.asarray(g)
    if array.shape != like.shape:
        raise RuntimeError(f"backward hook: {what} has shape {tuple(array.shape)}, but the "
                           f"gradient it replaces has shape {tuple(like.shape)}")
    return array


def _run_hooks(call: _Call, grad_input: tuple) -> tuple:
    module = call.module
    for hook in tuple(module.__dict__.get("_backward_hooks", ())):
        result = hook(module, grad_input, call.grad_output)
        if result is None:
            continue
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(grad_input):
            raise RuntimeError(f"backward hook returned an invalid number of grad_input, got "
                               f"{len(result)}, but expected {len(grad_input)}")
        grad_input = result
    return grad_input


def wrap_inputs(module: Any, args: tuple) -> tuple[tuple, _Call]:
    """Pass the module's Tensor arguments that require grad through the input identity."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    call = _Call(module, len(args), positions)
    if not positions:
        return args, call

    def on_backward(douts: tuple) -> tuple:
        grad_input = [None] * call.n_args
        for i, d in zip(positions, douts):
            grad_input[i] = _as_tensor(d)
        grad_input = _run_hooks(call, tuple(grad_input))
        return tuple(_as_array(grad_input[i], d, f"grad_input[{i}]")
                     for i, d in zip(positions, douts))

    wrapped = BackwardHookFunction.apply(*(args[i] for i in positions), on_backward=on_backward)
    wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
    new = list(args)
    for i, w in zip(positions, wrapped):
        new[i] = w
    return tuple(new), call


def wrap_outputs(call: _Call, output: Any) -> Any:
    """Pass the module's Tensor outputs (the output, or the Tensors of an output tuple or list)
    that require grad through the output identity."""
    single = isinstance(output, Tensor)
    items = [output] if single else list(output) if isinstance(output, (tuple, list)) else []
    where = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
    if not where:
        return output
    module = call.module

    def on_backward(douts: tuple) -> tuple:
        grad_output = tuple(_as_tensor(d) for d in douts)
        for hook in tuple(module.__dict__.get("_backward_pre_hooks", ())):
            result = hook(module, grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_output):
                    raise RuntimeError(f"backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(result)}, but expected "
                                       f"{len(grad_output)}")
                grad_output = result
        call.grad_output = grad_output
        if not call.positions and module.__dict__.get("_backward_hooks"):
            # no input needs a gradient: the hooks run now, with PyTorch's warning
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          stacklevel=2)
            result = _run_hooks(call, (None,) * call.n_args)
            if any(g is not None for g in result):
                raise RuntimeError("backward hook: grad_input is all None here (no input of "
                                   "the module requires grad); the hook cannot replace it")
        return tuple(_as_array(g, d, f"grad_output[{i}]")
                     for i, (g, d) in enumerate(zip(grad_output, douts)))

    wrapped = BackwardHookFunction.apply(*(items[i] for i in where), on_backward=on_backward)
    wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
    for i, w in zip(where, wrapped):
        items[i] = w
    if single:
        return items[0]
    return type(output)(items) if not hasattr(output, "_fields") else type(output)(*items)


def add_backward_hook(module: Any, registry: str, hook: Callable, prepend: bool) -> Any:
    """Register ``hook`` in ``module.<registry>`` (made on first use); returns the handle."""
    if not callable(hook):
        method = ("register_full_backward_hook" if registry == "_backward_hooks"
                  else "register_full_backward_pre_hook")
        raise TypeError(f"{method}: hook must be callable, got {type(hook).__name__}")
    hooks = module.__dict__.setdefault(registry, [])
    hooks.insert(0, hook) if prepend else hooks.append(hook)
    return RemovableHandle(hooks, hook)
