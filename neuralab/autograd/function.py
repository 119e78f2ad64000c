"""Function and Context: the one place where gradients are written (Lecture 6, Backpropagation).

A primitive operation is a subclass of :class:`Function` with

* ``check(*inputs, **params)`` (optional): validate shapes, dtypes and parameters *before* any work,
  raising :class:`ValueError`/:class:`TypeError` with a message that names the op;
* ``forward(ctx, *arrays, **params)``: plain array code, saving on ``ctx`` what backward needs;
* ``backward(ctx, dout)``: the vector-Jacobian product, one gradient array per input (``None`` where
  an input needs none). For an op with several outputs, ``backward(ctx, *douts)``.

``Function.apply(*inputs, **params)`` runs the op on Tensors and, when gradients are being recorded,
returns outputs that remember the Context, which the backward engine later visits.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import grad_mode
from neuralab.autograd.tensor import Tensor, as_tensor_like

# Attributes of a Context that belong to the engine; everything else a Function stores on ctx is
# "saved for backward" and is released after the backward pass unless retain_graph=True.
_ENGINE_SLOTS = frozenset(
    {"function", "inputs", "needs_input_grad", "n_outputs", "out_meta", "released", "grad_hooks"}
)


class Context:
    """The record of one op application: its inputs and whatever its forward saved for backward.

    A Function's forward stores arrays on the context (``ctx.x = x``, or ``ctx.save_for_backward``);
    its backward reads them back. After the graph's backward pass they are released to free
    memory, and a second backward through the same graph raises a clear error.
    """

    def __init__(self, function: type[Function], inputs: tuple, needs_input_grad: tuple[bool, ...]):
        self.function = function
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self.n_outputs = 1
        self.out_meta: list[tuple[tuple[int, ...], Any]] = []
        self.released = False
        self.grad_hooks: dict[int, list] | None = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for the backward pass (read back as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays

    def release(self) -> None:
        """Drop everything saved for backward, and the references to the inputs."""
        for name in [k for k in self.__dict__ if k not in _ENGINE_SLOTS]:
            del self.__dict__[name]
        self.inputs = ()
        self.released = True

    def __getattr__(self, name: str) -> Any:
        # Only reached when the attribute is missing: after release, say why.
        if self.__dict__.get("released"):
            raise RuntimeError(
                f"{self.__dict__['function'].__name__}.backward: the values saved for backward "
                "were released by an earlier backward pass. To backward through the same graph "
                "twice, call backward(retain_graph=True) the first time."
            )
        raise AttributeError(name)


class Function:
    """Base class of every differentiable primitive. See the module docstring for the pattern."""

    @staticmethod
    def check(*inputs: Any, **params: Any) -> None:
        """Validate the inputs and parameters; the default accepts everything."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *douts: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on Tensors (other positional inputs are wrapped as constants).

        Returns one Tensor, or a tuple of Tensors when forward returns a tuple.
        """
        tensors = tuple(
            x if isinstance(x, Tensor) else as_tensor_like(x, inputs, cls.__name__) for x in inputs
        )
        cls.check(*tensors, **params)
        needs = tuple(t.requires_grad for t in tensors)
        record = grad_mode.is_enabled() and any(needs)
        ctx = Context(cls, tensors if record else (), needs)
        try:
            result = cls.forward(ctx, *(t.array for t in tensors), **params)
        except MemoryError as err:  # name the op and the shapes that did not fit
            shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in tensors)
            raise MemoryError(f"{cls.__name__}: out of memory in forward on inputs {shapes}"
                              f"{': ' + str(err) if str(err) else ''}; use a smaller batch or "
                              "model") from err
        if isinstance(result, tuple):
            owner = ctx if record else None
            outputs = tuple(Tensor._from_op(r, owner, i) for i, r in enumerate(result))
            ctx.n_outputs = len(result)
        else:
            outputs = Tensor._from_op(result, ctx if record else None, 0)
        if record:
            results = result if isinstance(result, tuple) else (result,)
            ctx.out_meta = [(r.shape, r.dtype) for r in results]
        return outputs


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo NumPy broadcasting in a gradient: sum ``grad`` down to ``shape``.

    Broadcasting copies an input along new leading axes and along axes of size 1; by the chain rule
    the gradient of each copy adds up, so x̄ is the sum of the broadcast gradient over those axes.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)
