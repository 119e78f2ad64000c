"""The Tensor: an ndarray plus what reverse-mode differentiation needs (Lecture 6).

A Tensor holds its values in ``array`` (a NumPy array), whether it ``requires_grad``, and, when an
op produced it while gradients were recorded, the op's Context (``_ctx``). Leaves (tensors made by
the user, parameters) accumulate their gradient in ``grad`` after ``backward()``.

Arithmetic and the other methods (``x @ w``, ``x.sum()``, ``x.relu()``) are installed by
``neuralab.ops`` so that this lower layer does not import the ops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.autograd import engine
from neuralab.backend import default_float, xp

_FLOAT_KINDS = "f"
_PRINT_OPTIONS = {"precision": 4, "suppress_small": True, "threshold": 50, "edgeitems": 3}


def _convert(data: Any, dtype: Any = None) -> Any:
    """Turn ``data`` into an ndarray with neuralab's dtype rules.

    Floating data becomes float32 unless ``dtype`` says otherwise (so a learner's float64
    ``np.random.randn`` meets float32 weights without a dtype error); integers become int64;
    booleans stay bool.
    """
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return xp.asarray(data, dtype=xp.dtype(dtype))
    array = xp.asarray(data)
    kind = array.dtype.kind
    if kind == _FLOAT_KINDS:
        return array.astype(default_float, copy=False)
    if kind in "iu":
        return array.astype(xp.int64, copy=False)
    if kind == "b":
        return array
    if kind == "O" or kind in "USV":
        raise TypeError(
            f"tensor: cannot make a tensor from data of type {type(data).__name__} "
            f"(NumPy dtype {array.dtype}); give numbers, nested lists of numbers or an ndarray"
        )
    return array


class RemovableHandle:
    """Returned by ``register_*hook``; ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """A multidimensional array that can record the ops applied to it for backpropagation.

    Args:
        data: numbers, nested lists, an ndarray or another Tensor.
        dtype: NumPy dtype to force; by default floats become float32 and integers int64.
        requires_grad: whether ``backward()`` should compute a gradient for this tensor.
    """

    __array_priority__ = 1000  # so ``ndarray + Tensor`` defers to Tensor.__radd__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False):
        self.array = _convert(data, dtype)
        self.grad: Tensor | None = None
        self._ctx = None
        self._index = 0
        self._hooks: list[Callable] | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, array: Any, ctx: Any, index: int) -> Tensor:
        """Wrap an op's output array without conversion (ops already return the right dtype)."""
        out = cls.__new__(cls)
        out.array = array if isinstance(array, xp.ndarray) else xp.asarray(array)
        if out.array.dtype.kind != _FLOAT_KINDS:
            ctx = None  # integer and bool results (indices, masks) carry no gradient
        out.grad = None
        out._ctx = ctx
        out._index = index
        out._hooks = None
        out.requires_grad = ctx is not None
        return out

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Any:
        """The raw ndarray, for now (the library's own code reads ``array``); ``.data`` is
        becoming PyTorch's: a Tensor sharing the memory that does not track gradients."""
        return self.array

    @data.setter
    def data(self, value: Any) -> None:
        self.array = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def size(self) -> int:  # PyTorch's .size() is a method; here a property like NumPy's
        return self.array.size

    def numel(self) -> int:
        """Number of elements."""
        return self.array.size

    def dim(self) -> int:
        """Number of dimensions."""
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user tensors, parameters)."""
        return self._ctx is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (only floating tensors can require a gradient)."""
        if requires_grad and self.array.dtype.kind != _FLOAT_KINDS:
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, this one is "
                f"{self.array.dtype}; convert it first with .float() or .double()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "requires_grad_: cannot turn off gradients of a non-leaf tensor; use .detach()"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf.

        Args:
            gradient: ȳ, the gradient of the final loss with respect to this tensor; may be
                omitted only for a scalar (then it is 1).
            retain_graph: keep the saved values so that backward can run through the graph again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph; create the leaves "
                "with requires_grad=True (parameters already are) and compute outside no_grad()"
            )
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can be implicitly created only for a scalar output, "
                    f"but this tensor has shape {self.shape}; reduce it first (e.g. loss.sum() or "
                    "loss.mean()) or pass gradient=<tensor of the same shape>"
                )
            seed = xp.ones(self.shape, dtype=self.dtype)
        else:
            seed = gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient)
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward: gradient has shape {seed.shape} but the tensor has shape "
                    f"{self.shape}; they must match"
                )
            seed = seed.astype(self.dtype, copy=False)
        engine.run_backward(self, seed, retain_graph=retain_graph)

    def _accumulate(self, grad: Any) -> None:
        """Add a gradient into ``.grad`` (leaves only), after running this tensor's hooks."""
        if self._hooks:
            for hook in self._hooks:
                new = hook(Tensor._from_op(grad, None, 0))  # keep the dtype (float64)
                if new is not None:
                    grad = new.array if isinstance(new, Tensor) else new
        if self.grad is None:
            # A copy: the same array may be the gradient of another input too (x + y).
            self.grad = Tensor._from_op(xp.array(grad, dtype=self.dtype, copy=True), None, 0)
        else:
            self.grad.array += grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                               "require grad")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._ctx.grad_hooks is None:
                self._ctx.grad_hooks = {}
            hooks = self._ctx.grad_hooks.setdefault(self._index, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self._ctx is None or getattr(self, "_retains_grad", False):
            return
        self._retains_grad = True

        def keep(grad: Tensor) -> None:
            if self.grad is None:
                self.grad = Tensor._from_op(grad.array.copy(), None, 0)
            else:
                self.grad.array += grad.array

        self.register_hook(keep)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph (no gradient flows through it)."""
        return Tensor._from_op(self.array, None, 0)

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> Any:
        """The values as an ndarray (shares memory with the tensor)."""
        return self.array

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, this one has shape {self.shape}")
        return self.array.item()

    def tolist(self) -> Any:
        return self.array.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self.array if dtype is None else self.array.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.array.size} "
                               "elements is ambiguous; use .any() or .all()")
        return bool(self.array)

    def __repr__(self) -> str:
        body = xp.array2string(self.array, separator=", ", prefix="tensor(", **_PRINT_OPTIONS)
        extras = []
        if self.dtype != default_float and self.dtype != xp.int64 and self.dtype != xp.bool_:
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.function.__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __hash__(self) -> int:  # tensors are used as dict keys (optimizer state) by identity
        return id(self)

    # ----------------------------------------------------------------- in-place (no graph)
    # These write into ``array`` and are not differentiable, as for PyTorch's in-place ops under
    # no_grad(): initialization and optimizer updates use them.
    def zero_(self) -> Tensor:
        self.array[...] = 0
        return self

    def fill_(self, value: float) -> Tensor:
        self.array[...] = value
        return self

    def copy_(self, src: Any) -> Tensor:
        src = src.array if isinstance(src, Tensor) else xp.asarray(src)
        if src.shape != self.shape and xp.broadcast_shapes(src.shape, self.shape) != self.shape:
            raise ValueError(f"copy_: source of shape {src.shape} does not fit into a tensor of "
                             f"shape {self.shape}")
        self.array[...] = src
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from neuralab.backend import rng

        self.array[...] = rng().uniform(a, b, size=self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from neuralab.backend import rng

        self.array[...] = rng().normal(mean, std, size=self.shape)
        return self

    # ----------------------------------------------------------------- dtype
    # ``to(dtype)`` is installed by neuralab.ops (the cast op lives with the other ops).

    def float(self) -> Tensor:
        return self.to(xp.float32)

    def double(self) -> Tensor:
        return self.to(xp.float64)

    def long(self) -> Tensor:
        return self.to(xp.int64)

    def int(self) -> Tensor:
        return self.to(xp.int32)

    def bool(self) -> Tensor:
        return self.to(xp.bool_)


def as_tensor_like(value: Any, inputs: tuple, op_name: str) -> Tensor:
    """Wrap a constant operand of an op (a Python number or an ndarray) as a Tensor.

    A Python number takes the dtype of the op's floating tensor inputs, so ``x * 2.0`` stays
    float32; arrays follow the usual conversion rules.
    """
    if isinstance(value, (int, float, bool)) and not isinstance(value, xp.ndarray):
        for other in inputs:
            if isinstance(other, Tensor):
                dtype = other.dtype
                if isinstance(value, float) and dtype.kind != _FLOAT_KINDS:
                    dtype = default_float
                return Tensor._from_op(xp.asarray(value, dtype=dtype), None, 0)
    try:
        return Tensor(value)
    except TypeError as err:
        raise TypeError(f"{op_name}: cannot use an operand of type {type(value).__name__}: "
                        f"{err}") from None
