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

import weakref
from typing import Any

from neuralab.autograd import grad_mode
from neuralab.autograd.tensor import Tensor, as_tensor_like
from neuralab.backend import xp

# Attributes of a Context that belong to the engine; everything else a Function stores on ctx is
# "saved for backward" and is released after the backward pass unless retain_graph=True.
_ENGINE_SLOTS = frozenset(
    {"function", "held_inputs", "input_meta", "needs_input_grad", "n_outputs", "out_meta",
     "released", "grad_hooks", "saved_versions", "edges"}
)


class Context:
    """The record of one op application: its inputs and whatever its forward saved for backward.

    A Function's forward stores arrays on the context (``ctx.x = x``, or ``ctx.save_for_backward``);
    its backward reads them back. After the graph's backward pass they are released to free
    memory, and a second backward through the same graph raises a clear error.
    """

    def __init__(self, function: type[Function], inputs: tuple, needs_input_grad: tuple[bool, ...]):
        self.function = function
        # The graph holds what a forward saved (ctx.x = ...), not every intermediate value: an
        # input made by another op is held weakly, so that, say, a batch norm's output that only
        # a ReLU read is freed at once instead of living until backward (ResNet-20 at batch 128:
        # the step's peak memory falls by about half). Backward needs only the inputs' shapes
        # and dtypes (input_meta), as PyTorch's nodes keep; leaves (parameters, the batch) are
        # held, their gradients are accumulated into them.
        self.held_inputs = tuple(t if t._ctx is None else weakref.ref(t) for t in inputs)
        self.input_meta = tuple((t.array.shape, t.array.dtype) for t in inputs)
        self.needs_input_grad = needs_input_grad
        self.n_outputs = 1
        self.out_meta: list[tuple[tuple[int, ...], Any]] = []
        self.released = False
        self.grad_hooks: dict[int, list] | None = None
        # (version counter, version when saved, dtype, shape, creator, output index) of every
        # input or output whose values the forward saved: backward refuses to run on values
        # changed in place since. A shared empty tuple until the first one.
        self.saved_versions: list[tuple] | tuple = ()
        # Where each input's gradient goes: (the context that made it, its output index), or
        # (None, 0) for a leaf. Read when the op runs, because an in-place op later gives the
        # input tensor a new history ("rebases" it) while this op used the old one.
        self.edges: tuple[tuple[Any, int], ...] = tuple((t._ctx, t._index) for t in inputs)

    @property
    def inputs(self) -> tuple:
        """The op's input tensors; None for one made by another op that nothing holds any more."""
        return tuple(t() if isinstance(t, weakref.ref) else t
                     for t in self.__dict__["held_inputs"])

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for the backward pass (read back as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays

    # PyTorch's other ctx methods, for Functions written against Tensors (custom_function.py).
    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Outputs of forward that get no gradient (indices, masks): they do not require grad."""
        self._non_differentiable = tuple(getattr(o, "array", o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's API: backward always receives zeros, never None, for outputs
        that got no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted for PyTorch's API: inputs that forward modified in place."""

    def release(self) -> None:
        """Drop everything saved for backward, and the references to the inputs."""
        for name in [k for k in self.__dict__ if k not in _ENGINE_SLOTS]:
            del self.__dict__[name]
        self.held_inputs = ()
        self.edges = ()
        self.released = True

    # ------------------------------------------------------------ PyTorch's grad_fn interface
    def name(self) -> str:
        """PyTorch's name of the backward node (``MulBackward0`` for the op ``Mul``)."""
        return f"{self.__dict__['function'].__name__}Backward0"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes the gradient flows to next: ``(grad_fn or AccumulateGrad or None, index)``
        per input, as PyTorch's ``grad_fn.next_functions``."""
        nodes = []
        for tensor, (parent, index) in zip(self.inputs, self.__dict__["edges"]):
            if parent is not None:
                nodes.append((parent, index))
            elif tensor._requires_grad:
                nodes.append((AccumulateGrad(tensor), 0))
            else:
                nodes.append((None, 0))
        return tuple(nodes)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def check_versions(self) -> None:
        """Raise if a value saved for backward was modified in place after it was saved."""
        for counter, expected, *about in self.__dict__["saved_versions"]:
            if counter[0] != expected:
                what = Tensor.describe(*about)
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {what}, is at version {counter[0]}; expected version "
                    f"{expected} instead (it is needed by {self.name()}). Hint: the in-place "
                    "update came after the op used the tensor; compute out of place "
                    "(h = h * 2 instead of h *= 2) or modify a .clone()."
                )

    def __getattr__(self, name: str) -> Any:
        # Only reached when the attribute is missing: after release, say why.
        if self.__dict__.get("released"):
            raise RuntimeError(
                f"{self.__dict__['function'].__name__}.backward: the values saved for backward "
                "were released by an earlier backward pass. To backward through the same graph "
                "twice, call backward(retain_graph=True) the first time."
            )
        raise AttributeError(name)


class AccumulateGrad:
    """The graph node of a leaf that requires grad: backward adds into ``variable.grad``."""

    def __init__(self, variable: Any):
        self.variable = variable
        self.next_functions: tuple = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def _record_saved_versions(ctx: Context, tensors: tuple) -> None:
    """Remember the versions of the tensors whose memory the forward saved on ``ctx``."""
    saved = []
    for key, value in ctx.__dict__.items():
        if key in _ENGINE_SLOTS:
            continue
        if isinstance(value, Tensor):
            value = value.array
        if isinstance(value, xp.ndarray):
            saved.append(value)
        elif isinstance(value, (tuple, list)):  # ctx.save_for_backward(...), one level deep
            saved.extend(v.array if isinstance(v, Tensor) else v for v in value
                         if isinstance(v, (xp.ndarray, Tensor)))
    if not saved:
        return
    for tensor in tensors:
        array = tensor.array
        for a in saved:
            # The same array, or a view of the same memory (a reshaped input, say).
            if a is array or (a.base is not None and xp.may_share_memory(a, array)):
                counter = tensor._counter()
                if not ctx.saved_versions:
                    ctx.saved_versions = []
                ctx.saved_versions.append((counter, counter[0], tensor.array.dtype,
                                           tensor.array.shape, tensor._ctx, tensor._index))
                break


# Per Function class: whether forward and backward take Tensors (PyTorch's convention).
_TENSOR_MODE: dict[type, bool] = {}


def takes_tensors(cls: type) -> bool:
    """True when ``cls`` (a Function subclass) is written against Tensors, as PyTorch's: one
    defined outside the neuralab package, unless its class attribute ``tensor_args`` says
    otherwise (see ``custom_function.py``)."""
    explicit = getattr(cls, "tensor_args", None)
    if explicit is not None:
        return bool(explicit)
    module = cls.__module__ or ""
    return not (module == "neuralab" or module.startswith("neuralab."))


def _tensor_apply(cls: type, inputs: tuple, params: dict) -> Any:
    """Replaced by ``custom_function.apply`` when neuralab.autograd is imported."""
    raise RuntimeError(f"{cls.__name__}.apply: neuralab.autograd.custom_function is not loaded")


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
        raise NotImplementedError(f"the derivative of {ctx.function.__name__} is not implemented "
                                  "(as in PyTorch); compute it under neuralab.no_grad() or "
                                  "detach its inputs")

    @staticmethod
    def setup_context(ctx: Context, inputs: tuple, output: Any) -> None:
        """PyTorch 2's alternative to a ``forward(ctx, ...)``: a Tensor-level Function may define
        ``forward(*args)`` without ``ctx`` and save what backward needs here."""
        raise NotImplementedError("setup_context is not defined for this Function")

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on Tensors (other positional inputs are wrapped as constants).

        Returns one Tensor, or a tuple of Tensors when forward returns a tuple. A Function
        written against Tensors, as PyTorch's (one defined outside neuralab), runs with
        PyTorch's convention instead: see ``custom_function.py``.
        """
        tensor_mode = _TENSOR_MODE.get(cls)
        if tensor_mode is None:
            tensor_mode = _TENSOR_MODE[cls] = takes_tensors(cls)
        if tensor_mode:
            return _tensor_apply(cls, inputs, params)
        tensors = tuple(
            x if isinstance(x, Tensor) else as_tensor_like(x, inputs, cls.__name__) for x in inputs
        )
        cls.check(*tensors, **params)
        needs = tuple(t._requires_grad for t in tensors)
        record = grad_mode.is_enabled() and any(needs)
        ctx = Context(cls, tensors if record else (), needs)
        try:
            result = cls.forward(ctx, *(t.array for t in tensors), **params)
        except MemoryError as err:  # name the op and the shapes that did not fit
            shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in tensors)
            raise MemoryError(f"{cls.__name__}: out of memory in forward on inputs {shapes}"
                              f"{': ' + str(err) if str(err) else ''}; use a smaller batch or "
                              "model") from err
        owner = ctx if record else None
        if isinstance(result, tuple):
            outputs = tuple(Tensor._from_op(r, owner, i) for i, r in enumerate(result))
            ctx.n_outputs = len(result)
            results = result
        else:
            outputs = Tensor._from_op(result, owner, 0)
            results = (result,)
        out_tensors = outputs if isinstance(outputs, tuple) else (outputs,)
        for out in out_tensors:
            _link_view(out, tensors)
        if record:
            ctx.out_meta = [(r.shape, r.dtype) for r in results]
            _record_saved_versions(ctx, tuple(t for t, x in zip(tensors, inputs) if t is x)
                                   + out_tensors)
        return outputs


def _link_view(out: Any, tensors: tuple) -> None:
    """An output whose array is a view of an input's memory is a view of that input's base:
    they share the version counter, and in-place writes through it reach the base."""
    array = out.array
    if array.base is None:
        for t in tensors:
            if t.array is array:  # the op returned its input unchanged
                out._vc, out._base = t._counter(), t._base if t._base is not None else t
                return
        return
    for t in tensors:
        if xp.may_share_memory(array, t.array):
            out._vc, out._base = t._counter(), t._base if t._base is not None else t
            return


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
