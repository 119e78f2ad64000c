"""Element types with PyTorch's names and PyTorch's type promotion.

``neuralab.float32`` and the other dtype objects wrap a NumPy dtype: they compare equal to it
(``x.dtype == np.float32`` and ``x.dtype == nl.float32`` both hold), NumPy accepts them wherever
it takes a dtype (through their ``.dtype`` attribute), and they print as PyTorch's do
(``neuralab.float32``).

Promotion follows PyTorch's ``result_type`` rather than NumPy's, because the two disagree where
a learner notices: float32 with int64 stays float32 (NumPy: float64), an integer tensor divided by
an integer gives the default float, and a 0-d tensor or a Python number only changes the result
when it is of a higher category (bool < integer < floating) than the dimensioned tensors, so a
float32 batch times a float64 0-d tensor stays float32.
"""

from __future__ import annotations

from typing import Any

from neuralab import backend
from neuralab.backend import xp

__all__ = [
    "dtype", "bfloat16", "bool", "double", "float", "float16", "float32", "float64", "half",
    "int", "int8", "int16", "int32", "int64", "long", "short", "uint8", "get_default_dtype",
    "set_default_dtype", "promote_types", "result_type", "is_floating_point", "as_numpy",
]

_Bool, _Int, _Float = bool, int, float  # Python's types, before this module's names shadow them


class dtype:  # noqa: N801  (PyTorch's name)
    """A tensor element type (``neuralab.float32``, ``neuralab.int64``, ...).

    Attributes:
        dtype: the NumPy dtype it stands for (this attribute is what lets NumPy accept it).
        is_floating_point: True for float16/32/64.
        is_signed: True for the signed integers and the floats.
        itemsize: bytes per element.
    """

    __slots__ = ("name", "dtype", "is_floating_point", "is_signed", "is_complex", "itemsize")

    def __init__(self, name: str, np_dtype: Any):
        self.name = name
        self.dtype = xp.dtype(np_dtype)
        self.is_floating_point = self.dtype.kind == "f"
        self.is_complex = self.dtype.kind == "c"
        self.is_signed = self.dtype.kind in "fic"
        self.itemsize = self.dtype.itemsize

    def __repr__(self) -> str:
        return f"neuralab.{self.name}"

    def __str__(self) -> str:
        # The bare name in messages and print() ("float32"), as NumPy prints it, so that error
        # messages read the same whichever kind of dtype reached them; repr() is PyTorch's.
        return self.name

    def __eq__(self, other: Any) -> _Bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None:  # np.dtype(None) is float64; None is no dtype
            return False
        try:
            return self.dtype == xp.dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> _Int:
        return hash(self.dtype)

    def __getattr__(self, name: str) -> Any:
        # NumPy's dtype attributes (kind, char, str, type) for the library's array code.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "dtype"), name)

    def __reduce__(self) -> tuple:
        return (_by_name, (self.name,))


class _Unsupported:
    """A PyTorch dtype that NumPy cannot represent: using it says so instead of guessing."""

    def __init__(self, name: str, hint: str):
        self.name, self._hint = name, hint

    def __repr__(self) -> str:
        return f"neuralab.{self.name}"

    @property
    def dtype(self) -> Any:
        raise TypeError(f"neuralab.{self.name} is not supported: {self._hint}")

    is_floating_point = True


float16 = half = dtype("float16", xp.float16)
float32 = float = dtype("float32", xp.float32)  # noqa: A001
float64 = double = dtype("float64", xp.float64)
int8 = dtype("int8", xp.int8)
int16 = short = dtype("int16", xp.int16)
int32 = int = dtype("int32", xp.int32)  # noqa: A001
int64 = long = dtype("int64", xp.int64)
uint8 = dtype("uint8", xp.uint8)
bool = dtype("bool", xp.bool_)  # noqa: A001
complex64 = dtype("complex64", xp.complex64)
complex128 = dtype("complex128", xp.complex128)
bfloat16 = _Unsupported("bfloat16", "NumPy has no bfloat16 type; use neuralab.float32 "
                        "(or neuralab.float16 to halve the memory)")

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64, complex128)
_BY_NUMPY = {d.dtype: d for d in _ALL}
_NAMES = {d.name: d for d in _ALL}
_NAMES.update(half=half, float=float32, double=float64, short=int16, int=int32, long=int64)


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def of(np_dtype: Any) -> dtype:
    """The dtype object standing for a NumPy dtype (made once per NumPy dtype)."""
    found = _BY_NUMPY.get(np_dtype)
    if found is None:
        np_dtype = xp.dtype(np_dtype)
        found = _BY_NUMPY.get(np_dtype)
        if found is None:
            found = _BY_NUMPY[np_dtype] = dtype(np_dtype.name, np_dtype)
    return found


def as_numpy(value: Any, op: str = "dtype") -> Any:
    """The NumPy dtype for a neuralab dtype, a NumPy dtype or type, a Python type or a name.

    Names may be NumPy's (``"float32"``) or PyTorch's (``"torch.float32"``, ``"neuralab.long"``).
    """
    if isinstance(value, dtype):
        return value.dtype
    if isinstance(value, _Unsupported):
        return value.dtype  # raises, naming the dtype
    if isinstance(value, str):
        name = value.split(".", 1)[1] if value.startswith(("torch.", "neuralab.")) else value
        if name in _NAMES:
            return _NAMES[name].dtype
        if name == "bfloat16":
            return bfloat16.dtype
    try:
        return xp.dtype(value)
    except TypeError:
        raise TypeError(f"{op}: {value!r} is not a dtype; use neuralab.float32, neuralab.int64, "
                        "... (or a NumPy dtype)") from None


def get_default_dtype() -> dtype:
    """The floating dtype of new tensors made from Python floats (float32 unless changed)."""
    return of(backend.default_float_dtype())


def set_default_dtype(d: Any) -> None:
    """Set the floating dtype for new tensors, factories and layers (float32 or float64).

    Args:
        d: ``neuralab.float32`` or ``neuralab.float64`` (float16 as in PyTorch, too).
    """
    np_dtype = as_numpy(d, "set_default_dtype")
    if np_dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got "
                        f"{of(np_dtype)}")
    backend.set_default_float(np_dtype)


def is_floating_point(x: Any) -> _Bool:
    """Whether a tensor (or dtype) is of a floating dtype."""
    d = x.dtype if not isinstance(x, dtype) else x
    return as_numpy(d).kind == "f"


# ----------------------------------------------------------------------------- promotion
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(a: Any, b: Any) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without loss, as PyTorch defines it.

    Unlike NumPy an integer and a float meet at the float (int64 with float32 is float32), and
    float16 stays float16 with any integer.
    """
    return of(_promote(as_numpy(a, "promote_types"), as_numpy(b, "promote_types")))


def _promote(a: Any, b: Any) -> Any:
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb and max(ca, cb) >= 2 and min(ca, cb) <= 1:
        return a if ca > cb else b  # an integer or bool meets a float: the float
    return xp.promote_types(a, b)


def _category(np_dtype: Any) -> _Int:
    return _CATEGORY[np_dtype.kind]


def _combine(higher: Any, lower: Any) -> Any:
    """PyTorch's rule for merging a higher-priority result with a lower-priority one."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(higher) >= 2:
        if _category(lower) == 3 and _category(higher) == 2:
            return xp.promote_types(higher, xp.complex64)
        return higher
    if higher.kind == "b" or _category(lower) >= 2:
        return _promote(higher, lower)
    return higher


def _scalar_dtype(value: Any) -> Any:
    if isinstance(value, _Bool) or isinstance(value, xp.bool_):
        return xp.dtype(xp.bool_)
    if isinstance(value, (_Int, xp.integer)):
        return xp.dtype(xp.int64)
    if isinstance(value, (_Float, xp.floating)):
        return backend.default_float_dtype()
    if isinstance(value, complex):
        return xp.dtype(xp.complex64)
    raise TypeError(f"result_type: cannot take the dtype of a {type(value).__name__}")


def result_type_arrays(operands: Any) -> Any:
    """The NumPy dtype PyTorch's promotion gives for tensors/arrays/Python numbers.

    Each operand is a Tensor (anything with ``.dtype`` and ``.ndim``) or a Python number.
    Dimensioned tensors outrank 0-d tensors, which outrank Python numbers, unless the lower
    rank is of a higher category (bool < integer < floating).
    """
    dim_result = zero_result = wrapped_result = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, (_Bool, _Int, _Float, complex, xp.generic)):
            current = _scalar_dtype(x)
            wrapped_result = current if wrapped_result is None else _promote(wrapped_result,
                                                                             current)
            continue
        current = as_numpy(x.dtype)
        if x.ndim == 0:
            zero_result = current if zero_result is None else _promote(zero_result, current)
        else:
            dim_result = current if dim_result is None else _promote(dim_result, current)
    result = _combine(dim_result, _combine(zero_result, wrapped_result))
    if result is None:
        raise TypeError("result_type: needs at least one tensor or number")
    return result


def result_type(*operands: Any) -> dtype:
    """The dtype of an elementwise op on ``operands`` (tensors or Python numbers), as PyTorch's.

    Example: ``result_type(nl.tensor([1, 2]), 1.0)`` is ``neuralab.float32``.
    """
    return of(result_type_arrays(operands))


def can_cast(from_: Any, to: Any) -> _Bool:
    """Whether an in-place op may write a ``from_`` result into a ``to`` tensor (no category
    is lost: no float into an integer tensor, no integer into a bool tensor)."""
    return _category(as_numpy(from_)) <= _category(as_numpy(to))
