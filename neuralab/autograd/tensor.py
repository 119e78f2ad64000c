"""The Tensor: an ndarray plus what reverse-mode differentiation needs (Lecture 6).

A Tensor holds its values in ``array`` (a NumPy array), whether it ``requires_grad``, and, when an
op produced it while gradients were recorded, the op's Context (``_ctx``, PyTorch's ``grad_fn``).
Leaves (tensors made by the user, parameters) accumulate their gradient in ``grad`` after
``backward()``. ``.data`` is PyTorch's: a Tensor sharing the memory, cut from the graph.

In-place updates (``x += 1``, ``x.mul_(2)``, ``x[mask] = 0``) write into the same memory, as in
PyTorch. Every tensor has a version counter (``_version``), shared with its views; an op that saved
a tensor for backward remembers the version it saw, and backward refuses to use a value that was
modified in place afterwards, instead of returning a silently wrong gradient.

Arithmetic and the other methods (``x @ w``, ``x.sum()``, ``x.relu()``, the in-place methods) are
installed by ``neuralab.ops`` so that this lower layer does not import the ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from neuralab import backend, devices, dtypes
from neuralab.autograd import engine, grad_mode
from neuralab.backend import xp

_FLOAT_KINDS = "f"
_PRINT_OPTIONS = {"precision": 4, "suppress_small": True, "threshold": 50, "edgeitems": 3}
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _convert(data: Any, dtype: Any = None) -> Any:
    """Turn ``data`` into an ndarray with neuralab's dtype rules.

    Floating data becomes the default float (float32) unless ``dtype`` says otherwise (so a
    learner's float64 ``np.random.randn`` meets float32 weights without a dtype error); integers
    become int64; booleans stay bool.
    """
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return xp.asarray(data, dtype=dtypes.as_numpy(dtype, "tensor"))
    array = xp.asarray(data)
    kind = array.dtype.kind
    if kind == _FLOAT_KINDS:
        return array.astype(backend.default_float_dtype(), copy=False)
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


class Size(tuple):
    """The shape of a tensor, as ``x.size()`` returns it (PyTorch's ``torch.Size``): a tuple."""

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"neuralab.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item


class ElementCount(int):
    """What ``x.size`` reads: the number of elements (an int), callable as PyTorch's method:
    ``x.size()`` is the shape as ``neuralab.Size`` and ``x.size(dim)`` one dimension's size."""

    def __new__(cls, n: int, shape: tuple[int, ...]) -> ElementCount:
        out = super().__new__(cls, n)
        out.shape = shape
        return out

    def __call__(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self.shape)
        if not self.shape:
            raise IndexError(f"size: dimension specified as {dim} but the tensor has no "
                             "dimensions")
        n = len(self.shape)
        if isinstance(dim, bool) or not isinstance(dim, int) or not -n <= dim < n:
            raise IndexError(f"size: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {dim})")
        return self.shape[dim]


class RemovableHandle:
    """Returned by ``register_*hook``; ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _is_size_args(args: tuple) -> bool:
    """``Tensor(2, 3)`` and ``Tensor((2, 3))``-style sizes (PyTorch's uninitialised tensor)."""
    if not args:
        return True
    items = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
    return all(isinstance(n, int) and not isinstance(n, bool) for n in items)


class Tensor:
    """A multidimensional array that can record the ops applied to it for backpropagation.

    ``Tensor(data)`` follows PyTorch's ``torch.Tensor``: Python numbers and lists become float32
    (``Tensor([1, 2])`` is a float tensor) and ``Tensor(2, 3)`` is an uninitialised 2×3 float
    tensor (a single int with ``dtype=``, which PyTorch does not accept, is a 0-d value). An
    ndarray keeps neuralab's rules (floats become float32, integers int64, bools stay bool) and
    its memory is shared. Prefer ``neuralab.tensor(data)``, which infers the dtype as
    PyTorch's ``torch.tensor`` does and copies.

    Args:
        data: numbers, nested lists, an ndarray, another Tensor, or integer sizes.
        dtype: the dtype to force (``neuralab.float64``, a NumPy dtype, ...).
        requires_grad: whether ``backward()`` should compute a gradient for this tensor.
        device: accepted for PyTorch compatibility; only the CPU exists.
    """

    __array_priority__ = 1000  # so ``ndarray + Tensor`` defers to Tensor.__radd__
    _inference = False  # True on the tensors made inside inference_mode() (is_inference)

    def __init__(self, *data: Any, dtype: Any = None, requires_grad: bool = False,
                 device: Any = None):
        devices.check(device, "Tensor")
        if len(data) != 1 or (dtype is None and _is_size_args(data)):
            if len(data) == 1 and isinstance(data[0], Size):
                data = tuple(data[0])
            data = data or (0,)  # torch.Tensor() is an empty 1-d tensor
            array = xp.empty(data, dtype=dtypes.as_numpy(dtype) if dtype is not None
                             else backend.default_float_dtype())
        else:
            values = data[0]
            if dtype is None and isinstance(values, (list, tuple, float)):
                dtype = backend.default_float_dtype()  # torch.Tensor([1, 2]) is float32
            array = _convert(values, dtype)
        self.array = array
        self.grad: Tensor | None = None
        self._ctx = None
        self._index = 0
        self._hooks: list[Callable] | None = None
        self._requires_grad = False
        self._vc: list[int] | None = None  # made when first needed (see _counter)
        self._base: Tensor | None = None
        if grad_mode._state.inference:
            self._inference = True
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
        out._requires_grad = ctx is not None
        out._vc = None
        out._base = None
        if grad_mode._state.inference:
            out._inference = True
        return out

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a tensor sharing this one's memory that does not track gradients.

        In-place changes through it (``p.data.add_(g, alpha=-lr)``) are not recorded by autograd
        and do not count as versions. Assigning ``p.data = t`` makes ``p`` use ``t``'s values.
        """
        return Tensor._from_op(self.array, None, 0)

    @data.setter
    def data(self, value: Any) -> None:
        array = value.array if isinstance(value, Tensor) else xp.asarray(value)
        self.array = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> dtypes.dtype:
        """The element type (``neuralab.float32``; equal to the NumPy dtype too)."""
        return dtypes.of(self.array.dtype)

    @property
    def device(self) -> devices.device:
        """Where the values live: always the CPU."""
        return devices.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def itemsize(self) -> int:
        return self.array.itemsize

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    @property
    def size(self) -> ElementCount:
        """PyTorch's method: ``x.size()`` is the shape as ``neuralab.Size``, ``x.size(dim)`` the
        size of one dimension. (Read without a call it is still the number of elements, as
        NumPy's ``.size``, so that array-style code keeps working; prefer ``numel()``.)"""
        return ElementCount(self.array.size, self.array.shape)

    def _dim(self, op: str, dim: int) -> int:
        n = max(self.array.ndim, 1)
        if not -n <= dim < n:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {dim})")
        return dim % n

    def numel(self) -> int:
        """Number of elements."""
        return self.array.size

    nelement = numel

    def dim(self) -> int:
        """Number of dimensions."""
        return self.array.ndim

    ndimension = dim

    def element_size(self) -> int:
        """Bytes per element."""
        return self.array.itemsize

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Steps in elements between neighbours along each dimension (PyTorch's strides)."""
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[self._dim("stride", dim)]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the values lie in row-major (C) order without gaps."""
        return bool(self.array.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self.array.__array_interface__["data"][0]

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == _FLOAT_KINDS

    def is_complex(self) -> bool:
        return self.array.dtype.kind == "c"

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user tensors, parameters)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The backward node of the op that made this tensor (None for a leaf)."""
        return self._ctx

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views)."""
        return 0 if self._vc is None else self._vc[0]

    def _counter(self) -> list[int]:
        """The version counter, a one-element list shared with the views of this memory (made
        on first use: most tensors are never saved, viewed or changed in place)."""
        if self._vc is None:
            self._vc = [0]
        return self._vc

    def _bump_version(self) -> None:
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def _describe(self) -> str:
        """``[neuralab.FloatTensor [2, 3]], which is output 0 of MulBackward0`` (for errors)."""
        return Tensor.describe(self.array.dtype, self.shape, self._ctx, self._index)

    @staticmethod
    def describe(np_dtype: Any, shape: tuple, ctx: Any, index: int) -> str:
        """PyTorch's description of a tensor in autograd errors."""
        kind = _TYPE_NAMES.get(np_dtype.name, np_dtype.name)
        text = f"[neuralab.{kind} {list(shape)}]"
        if ctx is not None:
            text += f", which is output {index} of {ctx.name()}"
        return text

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (only floating tensors can require a gradient)."""
        if requires_grad and self.array.dtype.kind != _FLOAT_KINDS:
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, this one is "
                f"{self.dtype}; convert it first with .float() or .double()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "requires_grad_: cannot turn off gradients of a non-leaf tensor; use .detach()"
            )
        self._requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Backpropagate: accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf.

        Args:
            gradient: ȳ, the gradient of the final loss with respect to this tensor; may be
                omitted only for a scalar (then it is 1).
            retain_graph: keep the saved values so that backward can run through the graph again.
            create_graph: not supported (neuralab's backward passes are NumPy code, so they
                cannot be differentiated again).
            inputs: accumulate only into these leaves' ``.grad``.
        """
        if create_graph:
            raise NotImplementedError(
                "backward: create_graph=True (higher-order gradients) is not supported: "
                "neuralab's backward passes are NumPy code that is not itself recorded")
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph; create the leaves "
                "with requires_grad=True (parameters already are) and compute outside no_grad()"
            )
        seed = self._seed(gradient, "backward")
        only = None
        if inputs is not None:
            only = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        engine.run_backward(self, seed, retain_graph=bool(retain_graph), only=only)

    def _seed(self, gradient: Any, op: str) -> Any:
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"{op}: a gradient can be implicitly created only for a scalar output, "
                    f"but this tensor has shape {self.shape}; reduce it first (e.g. loss.sum() "
                    "or loss.mean()) or pass gradient=<tensor of the same shape>"
                )
            return xp.ones(self.shape, dtype=self.array.dtype)
        seed = gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient)
        if seed.shape != self.shape:
            if seed.size == self.array.size == 1:
                seed = seed.reshape(self.shape)
            else:
                raise ValueError(f"{op}: gradient has shape {seed.shape} but the tensor has "
                                 f"shape {self.shape}; they must match")
        return seed.astype(self.array.dtype, copy=False)

    def _accumulate(self, grad: Any) -> None:
        """Add a gradient into ``.grad`` (leaves only), after running this tensor's hooks."""
        if self._hooks:
            for hook in self._hooks:
                new = hook(Tensor._from_op(grad, None, 0))  # keep the dtype (float64)
                if new is not None:
                    grad = new.array if isinstance(new, Tensor) else new
        if self.grad is None:
            # A copy: the same array may be the gradient of another input too (x + y).
            self.grad = Tensor._from_op(xp.array(grad, dtype=self.array.dtype, copy=True), None,
                                        0)
        else:
            self.grad.array += grad
        post = self.__dict__.get("_post_accumulate_hooks")
        if post:
            for hook in list(post):
                hook(self)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]
                                           ) -> RemovableHandle:
        """Call ``hook(tensor)`` after each backward pass has added into this leaf's ``.grad``
        (to update a parameter as soon as its gradient is ready, say)."""
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                               "tensor that does not require grad")
        if self._ctx is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                               "cannot be registered on non-leaf tensors")
        hooks = self.__dict__.setdefault("_post_accumulate_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``inference_mode()``."""
        return self._inference

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
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

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return self.__dict__.get("_retains_grad", False)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self._ctx is None or self.retains_grad:
            return
        self._retains_grad = True

        def keep(grad: Tensor) -> None:
            if self.grad is None:
                self.grad = Tensor._from_op(grad.array.copy(), None, 0)
            else:
                self.grad.array += grad.array

        self.register_hook(keep)

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory and version counter, cut from the graph."""
        out = Tensor._from_op(self.array, None, 0)
        out._vc = self._counter()
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place (it becomes a leaf)."""
        self._ctx, self._index, self._requires_grad = None, 0, False
        return self

    # ----------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> Any:
        """The values as an ndarray (shares memory with the tensor).

        Unlike PyTorch this also works on a tensor that requires grad (the array carries no
        graph, so nothing is lost).
        """
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

    # The DLPack protocol, as torch.Tensor's: torch.tensor(t), torch.from_dlpack(t) and
    # np.from_dlpack(t) read the values without a round trip through Python lists.
    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self.array.__dlpack_device__()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            f"index (this one is {self.dtype} with {self.array.size} elements)")
        return int(self.array.reshape(-1)[0])

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.array.size} "
                               "elements is ambiguous; use .any() or .all()")
        return bool(self.array.reshape(-1)[0])

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0:
            return format(self.array.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        body = xp.array2string(self.array, separator=", ", prefix="tensor(", **_PRINT_OPTIONS)
        extras = []
        kind = self.array.dtype
        if kind != backend.default_float_dtype() and kind != xp.int64 and kind != xp.bool_:
            extras.append(f"dtype={self.dtype!r}")
        if self.array.size == 0 and self.array.ndim != 1:
            extras.insert(0, f"size={tuple(self.shape)}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __hash__(self) -> int:  # tensors are used as dict keys (optimizer state) by identity
        return id(self)

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._ctx is not None:
            raise RuntimeError("deepcopy: only leaf tensors (created by the user) support the "
                               "deepcopy protocol; use .detach().clone() for a non-leaf")
        out = self.__class__.__new__(self.__class__)
        memo[id(self)] = out
        for key, value in self.__dict__.items():
            if key == "array":
                value = value.copy()
            elif key == "_vc":
                value = None
            elif key == "grad" and value is not None:
                value = value.__deepcopy__(memo)
            elif key in ("_hooks", "_base", "_post_accumulate_hooks"):
                value = None
            out.__dict__[key] = value
        return out

    # ----------------------------------------------------------------- new tensors
    def _new(self, array: Any, dtype: Any, requires_grad: bool, device: Any, op: str) -> Tensor:
        devices.check(device, op)
        if dtype is not None:
            array = array.astype(dtypes.as_numpy(dtype, op), copy=False)
        out = Tensor._from_op(array, None, 0)
        if requires_grad:
            out.requires_grad_(True)
        return out

    @staticmethod
    def _sizes(size: tuple) -> tuple:
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """Zeros of the given size, with this tensor's dtype unless ``dtype`` is given."""
        return self._new(xp.zeros(self._sizes(size), self.array.dtype), dtype, requires_grad,
                         device, "new_zeros")

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """Ones of the given size, with this tensor's dtype unless ``dtype`` is given."""
        return self._new(xp.ones(self._sizes(size), self.array.dtype), dtype, requires_grad,
                         device, "new_ones")

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor of the given size, with this tensor's dtype by default."""
        return self._new(xp.empty(self._sizes(size), self.array.dtype), dtype, requires_grad,
                         device, "new_empty")

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """``fill_value`` everywhere, with this tensor's dtype unless ``dtype`` is given."""
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,)
        return self._new(xp.full(size, fill_value, self.array.dtype), dtype, requires_grad,
                         device, "new_full")

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` as a new leaf, with this tensor's dtype unless ``dtype`` is given."""
        array = data.array if isinstance(data, Tensor) else data
        array = xp.array(array, dtype=self.array.dtype, copy=True)
        return self._new(array, dtype, requires_grad, device, "new_tensor")

    # ----------------------------------------------------------------- in-place updates
    def _check_inplace(self, op: str) -> None:
        """PyTorch's rules: a leaf that requires grad (or a view of one) is only changed in place
        under ``no_grad()`` (as optimizers and initialisers do)."""
        if self._requires_grad and self._ctx is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               "in-place operation. Wrap the update in `with neuralab.no_grad():` "
                               "(as an optimizer step does) or update p.data.")
        base = self._base
        if base is not None and base._requires_grad and base._ctx is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being "
                               "used in an in-place operation. Wrap the update in "
                               "`with neuralab.no_grad():`.")

    def _write(self, op: str, values: Any) -> None:
        """Write an op's result into this tensor's memory (dtype kept, no category lost)."""
        if values.dtype != self.array.dtype and not dtypes.can_cast(values.dtype,
                                                                    self.array.dtype):
            raise RuntimeError(f"{op}: result type {dtypes.of(values.dtype)} can't be cast to the "
                               f"desired output type {self.dtype} (an in-place op keeps the "
                               "tensor's dtype; convert it first, e.g. x = x.float())")
        if values.shape != self.array.shape:
            try:
                shape = xp.broadcast_shapes(values.shape, self.array.shape)
            except ValueError:
                shape = None
            if shape != self.array.shape:
                raise RuntimeError(f"{op}: output with shape {list(self.shape)} doesn't match the "
                                   f"broadcast shape {list(shape or values.shape)}")
        xp.copyto(self.array, values, casting="unsafe")

    def _inplace(self, op: str, compute: Callable[..., Tensor], *args: Any,
                 fast: Callable[[], None] | None = None) -> Tensor:
        """Run an in-place op: ``compute(old, *args)`` gives the new values out of place.

        Without a graph to record the values are written straight into this tensor's memory
        (by ``fast`` where given). With one, the op is recorded on a copy of the old values and
        this tensor takes over the result's history (PyTorch "rebases" it), so gradients flow
        as if ``x = op(x)`` had been written; for a view, the base's history is rebased too.
        """
        enabled = grad_mode.is_enabled()
        if enabled:
            self._check_inplace(op)
        record = enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        if record and compute is None:
            raise RuntimeError(f"{op}: cannot be recorded by autograd on a tensor that is part "
                               "of a graph; call it under neuralab.no_grad()")
        if not self.array.flags.writeable:
            raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location (an "
                               "expanded tensor) or the memory is read-only; call .clone() "
                               "before the in-place operation")
        if not record:
            if fast is not None:
                fast()
            else:
                with grad_mode.no_grad():
                    values = compute(self, *args)
                self._write(op, values.array if isinstance(values, Tensor) else values)
            self._bump_version()
            return self
        if self._base is not None:
            self._rebase_view(op, compute, args)
        else:
            new = self._recorded(op, compute, args)
            self._write(op, new.array)
            self._bump_version()
            self._take_history(new)
        return self

    def _recorded(self, op: str, compute: Callable[..., Tensor], args: tuple) -> Tensor:
        """``compute`` on a snapshot of the old values, recorded; the result in our dtype."""
        old = self._snapshot()
        new = compute(old, *args)
        if new.array.dtype != self.array.dtype:
            if not dtypes.can_cast(new.array.dtype, self.array.dtype):
                self._write(op, new.array)  # raises the dtype error
            new = new.to(self.dtype)
        if new.shape != self.shape:
            self._write(op, new.array)  # raises the shape error, or broadcasts
            new = new.expand(*self.shape)
        return new

    def _rebase_view(self, op: str, compute: Callable[..., Tensor], args: tuple) -> None:
        """An in-place op on a view inside a graph; installed by ``neuralab.autograd.views``
        (which holds the Functions it records)."""
        raise NotImplementedError(f"{op}: neuralab.autograd.views is not installed")

    def _snapshot(self) -> Tensor:
        """A copy of the current values that stands in for this tensor in the graph."""
        old = Tensor._from_op(self.array.copy(), None, 0)
        old._ctx, old._index, old._requires_grad = self._ctx, self._index, self._requires_grad
        return old

    def _take_history(self, new: Tensor) -> None:
        self._ctx, self._index, self._requires_grad = new._ctx, new._index, new._requires_grad

    def zero_(self) -> Tensor:
        """Fill with zeros, in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a one-element tensor), in place."""
        if isinstance(value, Tensor) and value._requires_grad:
            return self._inplace("fill_", lambda old, v: old * 0 + v, value)
        number = value.item() if isinstance(value, Tensor) else value

        def fast() -> None:
            self.array[...] = number

        return self._inplace("fill_", lambda old: old * 0 + number, fast=fast)

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy ``src``'s values (broadcast, converted to this tensor's dtype) in place."""
        src_array = src.array if isinstance(src, Tensor) else xp.asarray(src)
        try:
            shape = xp.broadcast_shapes(src_array.shape, self.shape)
        except ValueError:
            shape = None
        if shape != tuple(self.shape):
            raise RuntimeError(f"copy_: the source of shape {list(src_array.shape)} does not "
                               f"broadcast to the tensor's shape {list(self.shape)}")
        if isinstance(src, Tensor) and src._requires_grad:
            return self._inplace("copy_", lambda old, s: old * 0 + s.to(self.dtype), src)

        def fast() -> None:
            xp.copyto(self.array, src_array, casting="unsafe")

        return self._inplace("copy_", lambda old: old * 0 + Tensor._from_op(
            src_array.astype(self.array.dtype), None, 0), fast=fast)

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b), in place (from ``generator`` when given)."""
        gen = backend.as_rng(generator)

        def fast() -> None:
            self.array[...] = gen.uniform(a, b, size=self.shape)

        return self._inplace("uniform_", None, fast=fast)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std²), in place (from ``generator`` when given)."""
        gen = backend.as_rng(generator)

        def fast() -> None:
            self.array[...] = gen.normal(mean, std, size=self.shape)

        return self._inplace("normal_", None, fast=fast)

    def random_(self, low: int = 0, high: int | None = None, generator: Any = None) -> Tensor:
        """Fill with integers drawn uniformly from [low, high), in place (from ``generator``
        when given)."""
        gen = backend.as_rng(generator)
        if high is None:
            low, high = 0, low if low else 2**24

        def fast() -> None:
            self.array[...] = gen.integers(low, high, size=self.shape)

        return self._inplace("random_", None, fast=fast)

    def bernoulli_(self, p: float = 0.5, generator: Any = None) -> Tensor:
        """Fill with 0/1 samples that are 1 with probability ``p``, in place (from
        ``generator`` when given)."""
        gen = backend.as_rng(generator)

        def fast() -> None:
            self.array[...] = gen.random(self.shape) < p

        return self._inplace("bernoulli_", None, fast=fast)


class TensorType(type):
    """``FloatTensor(...)`` makes a Tensor of that dtype; ``isinstance`` checks the dtype."""

    def __call__(cls, *data: Any, device: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(*data, dtype=cls._dtype, device=device, requires_grad=requires_grad)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.array.dtype == cls._dtype

    def __repr__(cls) -> str:
        return f"<class 'neuralab.{cls.__name__}'>"


def _typed(name: str, np_dtype: Any) -> type:
    return TensorType(name, (), {"_dtype": xp.dtype(np_dtype), "__doc__":
                                       f"PyTorch's legacy constructor: a {np_dtype} Tensor."})


FloatTensor = _typed("FloatTensor", xp.float32)
DoubleTensor = _typed("DoubleTensor", xp.float64)
HalfTensor = _typed("HalfTensor", xp.float16)
LongTensor = _typed("LongTensor", xp.int64)
IntTensor = _typed("IntTensor", xp.int32)
ShortTensor = _typed("ShortTensor", xp.int16)
CharTensor = _typed("CharTensor", xp.int8)
ByteTensor = _typed("ByteTensor", xp.uint8)
BoolTensor = _typed("BoolTensor", xp.bool_)
_TYPE_CLASSES = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                         IntTensor, ShortTensor, CharTensor, ByteTensor,
                                         BoolTensor)}


def type_name(np_dtype: Any) -> str:
    """``neuralab.FloatTensor`` for float32 (what ``x.type()`` returns)."""
    return "neuralab." + _TYPE_NAMES.get(xp.dtype(np_dtype).name, xp.dtype(np_dtype).name)


def dtype_of_type_name(name: str) -> Any:
    """The NumPy dtype for a type name: ``"torch.FloatTensor"``, ``"neuralab.LongTensor"``."""
    short = name.rsplit(".", 1)[-1]
    if short not in _TYPE_CLASSES:
        if "cuda" in name:
            devices.check("cuda", "type")
        raise ValueError(f"type: invalid type {name!r}; use e.g. 'torch.FloatTensor' or a dtype "
                         "such as neuralab.float32")
    return _TYPE_CLASSES[short]._dtype


def as_tensor_like(value: Any, inputs: tuple, op_name: str, dtype: Any = None) -> Tensor:
    """Wrap a constant operand of an op (a Python number or an ndarray) as a Tensor.

    With ``dtype`` (the promoted dtype of the op) a number takes it; otherwise a Python number
    takes the dtype of the op's floating tensor inputs, so ``x * 2.0`` stays float32; arrays
    follow the usual conversion rules.
    """
    if isinstance(value, (int, float, bool, xp.generic)):
        if dtype is not None:
            return Tensor._from_op(xp.asarray(value, dtype=dtype), None, 0)
        for other in inputs:
            if isinstance(other, Tensor):
                np_dtype = other.array.dtype
                if isinstance(value, float) and np_dtype.kind != _FLOAT_KINDS:
                    np_dtype = backend.default_float_dtype()
                return Tensor._from_op(xp.asarray(value, dtype=np_dtype), None, 0)
    try:
        return Tensor._from_op(_convert(value, dtype), None, 0)
    except TypeError as err:
        raise TypeError(f"{op_name}: cannot use an operand of type {type(value).__name__}: "
                        f"{err}") from None
