"""Tests and logic without gradients: closeness, equality, nan/inf tests, logical and bitwise ops.

Their results are bool (or integer, for bitwise ops on integers) and carry no gradient: each is a
step function of its inputs, whose derivative is zero wherever it exists.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape
from neuralab.ops._promote import promote

__all__ = [
    "isclose", "allclose", "equal", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    "isreal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not",
]

TENSOR_METHODS = {name: name for name in __all__}
TENSOR_METHODS.update({
    "__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor",
    "__invert__": "bitwise_not",
})
REFLECTED = {"__rand__": "bitwise_and", "__ror__": "bitwise_or", "__rxor__": "bitwise_xor"}


def _array(x: Any) -> Any:
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """|input − other| ≤ atol + rtol · |other| elementwise (equal infinities are close).

    A bool tensor; nan is close to nan only with ``equal_nan=True``.
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, "
                         f"atol={atol}")
    a, b = (t.array for t in promote(input, other))
    broadcast_shape("isclose", a.shape, b.shape)
    if a.dtype == xp.bool_:
        return Tensor(xp.asarray(a == b))
    with xp.errstate(invalid="ignore", over="ignore"):
        close = a == b
        if a.dtype.kind == "f":
            close = close | (xp.isfinite(a) & xp.isfinite(b) & (xp.abs(a - b) <= atol + rtol
                                                                 * xp.abs(b)))
            if equal_nan:
                close = close | (xp.isnan(a) & xp.isnan(b))
        else:
            diff = xp.abs(a.astype(xp.float64) - b.astype(xp.float64))
            close = close | (diff <= atol + rtol * xp.abs(b.astype(xp.float64)))
    return Tensor(xp.asarray(close))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """True when every element of :func:`isclose` is True (a Python bool)."""
    return bool(isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan).array.all())


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True when both tensors have the same shape and the same elements (a Python bool)."""
    a, b = _array(input), _array(other)
    return a.shape == b.shape and bool(xp.array_equal(a, b))


def _test(name: str, fn: Any, doc: str) -> Any:
    def test(input: Any) -> Tensor:  # noqa: A002
        x = _array(input)
        if x.dtype.kind != "f":  # integers and bools are always finite
            return Tensor(xp.full(x.shape, name in ("isfinite", "isreal"), dtype=xp.bool_))
        return Tensor(xp.asarray(fn(x)))

    test.__name__ = test.__qualname__ = name
    test.__doc__ = doc
    return test


isnan = _test("isnan", xp.isnan, "True where the element is nan (a bool tensor).")
isinf = _test("isinf", xp.isinf, "True where the element is +inf or −inf.")
isfinite = _test("isfinite", xp.isfinite, "True where the element is neither nan nor ±inf.")
isposinf = _test("isposinf", xp.isposinf, "True where the element is +inf.")
isneginf = _test("isneginf", xp.isneginf, "True where the element is −inf.")
isreal = _test("isreal", lambda x: xp.ones(x.shape, dtype=xp.bool_),
               "True everywhere for a real tensor (neuralab has no complex dtype).")


def _logical(name: str, fn: Any) -> Any:
    def logical(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = _array(input), _array(other)
        broadcast_shape(name, a.shape, b.shape)
        return Tensor(xp.asarray(fn(a != 0, b != 0)))

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = (f"Elementwise ``{name}`` of the truth values (nonzero is True): a bool "
                       "tensor.")
    return logical


logical_and = _logical("logical_and", xp.logical_and)
logical_or = _logical("logical_or", xp.logical_or)
logical_xor = _logical("logical_xor", xp.logical_xor)


def logical_not(input: Any) -> Tensor:  # noqa: A002
    """Elementwise NOT of the truth values (zero is False): a bool tensor."""
    return Tensor(xp.asarray(_array(input) == 0))


def _bitwise(name: str, fn: Any) -> Any:
    def bitwise(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = (t.array for t in promote(input, other))
        if a.dtype.kind not in "iub":
            raise TypeError(f"{name}: needs integer or bool tensors, got {a.dtype}; for floats "
                            "compare first (e.g. (x > 0) & (y > 0))")
        broadcast_shape(name, a.shape, b.shape)
        return Tensor(xp.asarray(fn(a, b)))

    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = (f"Elementwise ``{name}`` of integer or bool tensors (the logical op for "
                       "bools); also the operator " + {"bitwise_and": "&", "bitwise_or": "|",
                                                       "bitwise_xor": "^"}[name] + ".")
    return bitwise


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor)


def bitwise_not(input: Any) -> Tensor:  # noqa: A002
    """Elementwise NOT: ``~x`` (logical for bools, two's complement for integers)."""
    x = _array(input)
    if x.dtype.kind not in "iub":
        raise TypeError(f"bitwise_not: needs an integer or bool tensor, got {x.dtype}; for a "
                        "float mask use logical_not")
    return Tensor(xp.asarray(~x))
