"""A user's ``torch.autograd.Function`` subclass, run with PyTorch's calling convention.

neuralab's own ops (``neuralab/ops``) are Functions whose ``forward`` and ``backward`` are array
code: they receive NumPy arrays and return arrays (see ``function.py``). A PyTorch program's
custom Function is written against Tensors instead::

    class ClampedReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input, ceiling):          # input: a Tensor, ceiling: a float
            ctx.save_for_backward(input)
            return input.clamp(min=0, max=ceiling)

        @staticmethod
        def backward(ctx, grad_output):            # a Tensor
            (input,) = ctx.saved_tensors
            grad = grad_output.clone()
            grad[input < 0] = 0
            return grad, None                      # one gradient per forward argument

A Function defined outside the ``neuralab`` package is run this way (PyTorch's semantics):

* ``forward`` receives the arguments exactly as given to ``apply`` (Tensors stay Tensors, other
  values are passed through unchanged) and runs with gradient recording off;
* ``backward`` receives Tensors and returns one gradient (a Tensor, an array or None) per
  argument of ``forward``, None for the arguments that are not Tensors;
* ``ctx.save_for_backward``/``ctx.saved_tensors``, ``ctx.needs_input_grad`` (one entry per
  argument), ``ctx.mark_non_differentiable``, ``ctx.set_materialize_grads``, ``ctx.mark_dirty``,
  and PyTorch 2's ``forward`` without ``ctx`` plus ``setup_context(ctx, inputs, output)``.

Array code still works there: a Tensor converts to an array for ``xp`` functions, and a forward
or backward that returns arrays is accepted. Setting the class attribute ``tensor_args = False``
makes a Function outside the package array-style, as neuralab's own; ``True`` the reverse.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import function as _function
from neuralab.autograd import grad_mode
from neuralab.autograd.function import Context, Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp


def _overrides_setup_context(cls: type) -> bool:
    return getattr(cls, "setup_context", None) is not getattr(Function, "setup_context", None)


def _as_array(value: Any, where: str) -> Any:
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, xp.ndarray):
        return value
    if isinstance(value, (int, float, bool, xp.generic)):
        return xp.asarray(value)
    raise TypeError(f"{where} returned a {type(value).__name__}; expected Tensors")


class _TensorFunction(Function):
    """The array-level op the engine records for one user Function class (see ``adapter``)."""

    user: type = Function

    @classmethod
    def forward(cls, ctx: Context, *arrays: Any, call: tuple) -> Any:
        args, kwargs, ctx.tensor_positions = call
        user = cls.user
        with grad_mode.no_grad():
            if _overrides_setup_context(user):
                output = user.forward(*args, **kwargs)
                user.setup_context(ctx, args, output)
            else:
                output = user.forward(ctx, *args, **kwargs)
        where = f"{user.__name__}.forward"
        if isinstance(output, (tuple, list)):
            return tuple(_as_array(o, where) for o in output)
        return _as_array(output, where)

    @classmethod
    def backward(cls, ctx: Context, *douts: Any) -> Any:
        user = cls.user
        with grad_mode.no_grad():
            grads = user.backward(ctx, *(Tensor._from_op(d, None, 0) for d in douts))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        n_args = len(ctx.input_meta)
        if len(grads) != n_args:
            # PyTorch's words
            raise RuntimeError(f"function {user.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {n_args}, got {len(grads)})")
        out = []
        for i, (grad, is_tensor) in enumerate(zip(grads, ctx.tensor_positions)):
            if grad is None:
                out.append(None)
            elif not is_tensor:
                raise RuntimeError(
                    f"function {user.__name__}Backward returned a gradient different than None "
                    f"at position {i + 1}, but the corresponding forward input was not a Tensor")
            else:
                out.append(_as_array(grad, f"{user.__name__}.backward"))
        return tuple(out)


def adapter(cls: type) -> type:
    """The array-level Function that runs ``cls``'s Tensor-level forward and backward (one per
    class, named after it so that ``grad_fn`` reads ``<Name>Backward0``)."""
    made = cls.__dict__.get("_neuralab_adapter")
    if made is None:
        made = type(cls.__name__, (_TensorFunction,),
                    {"user": cls, "__module__": __name__, "__qualname__": cls.__qualname__,
                     "tensor_args": False})
        cls._neuralab_adapter = made
    return made


def apply(cls: type, args: tuple, kwargs: dict) -> Any:
    """``cls.apply(*args, **kwargs)`` for a Tensor-level Function: the Tensors among ``args``
    are the op's inputs; every other argument stands in as a constant that needs no gradient."""
    positions = tuple(isinstance(a, Tensor) for a in args)
    inputs = tuple(a if is_t else Tensor._from_op(xp.zeros(()), None, 0)
                   for a, is_t in zip(args, positions))
    outputs = adapter(cls).apply(*inputs, call=(args, kwargs, positions))
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    ctx = next((o._ctx for o in outs if o._ctx is not None), None)
    if ctx is not None:
        non_diff = ctx.__dict__.pop("_non_differentiable", ())
        for out in outs:
            if any(out.array is a for a in non_diff):
                out._ctx = None
                out._requires_grad = False
    return outputs


_function._tensor_apply = apply  # Function.apply hands Tensor-level Functions to apply()
