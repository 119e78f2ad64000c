"""Containers of parameters, as ``torch.nn.ParameterList`` and ``torch.nn.ParameterDict``, and
the deprecated ``nn.Container``.

A plain Python list of Parameters assigned to a module hides them from ``parameters()`` (and so
from the optimizer) and from ``state_dict()``; these containers register every entry, under the
names PyTorch uses (``'0'``, ``'1'``... for a list, the keys for a dict), so checkpoints stay
interchangeable. As in PyTorch 2, a plain Tensor put into one becomes a Parameter (sharing its
memory) and any other object is kept as an ordinary attribute.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn.module import Module, Parameter

__all__ = ["ParameterList", "ParameterDict", "Container"]


def _as_parameter(value: Any) -> Any:
    """A Tensor that is not a Parameter becomes one (sharing its memory), as in PyTorch 2."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entry_repr(key: Any, value: Any, type_name: Any) -> str:
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): {kind} containing: [{type_name(value)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class _Registering(Module):
    """Sets an entry by name: a Parameter is registered (the name checked), anything else is an
    ordinary attribute; a name that is already one of the module's attributes is refused."""

    def _set_entry(self, name: str, value: Any) -> None:
        if name not in self._parameters and name not in self._modules \
                and name not in self._buffers and hasattr(self, name) \
                and name not in self._entry_names():
            raise KeyError(f"{type(self).__name__}: attribute '{name}' already exists; choose "
                           "another key")
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        else:
            setattr(self, name, value)

    def _entry_names(self) -> Iterable[str]:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{type(self).__name__} should not be called.")


class ParameterList(_Registering):
    """A list of Parameters, each registered under its position (``'0'``, ``'1'``...).

    Args:
        values: an iterable of Parameters (plain Tensors are made Parameters; other objects
            are kept as they are).

    Example:
        >>> self.weights = nn.ParameterList(nn.Parameter(nl.randn(4, 4)) for _ in range(3))
    """

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _entry_names(self) -> Iterable[str]:
        return [str(i) for i in range(self._size)]

    def _index(self, idx: Any) -> str:
        if isinstance(idx, bool) or not isinstance(idx, (int, xp.integer)):
            raise TypeError(f"ParameterList indices must be integers or slices, not "
                            f"{type(idx).__name__}")
        n = self._size
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ParameterList of length {n}")
        return str(int(idx) % n)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(*idx.indices(self._size)))
        return getattr(self, self._index(idx))

    def __setitem__(self, idx: int, value: Any) -> None:
        self._set_entry(self._index(idx), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[i] for i in range(self._size)])

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end."""
        new = self._size
        self._size += 1
        self[new] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of ``values`` (a Tensor is not unpacked: it is refused)."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(i, p, lambda t: repr(t.dtype)) for i, p in enumerate(self))


class ParameterDict(_Registering):
    """A dict of name -> Parameter, each registered under its key (string keys only).

    Args:
        parameters: a mapping or an iterable of (key, value) pairs. A plain ``dict`` is added
            in sorted key order and an ``OrderedDict`` (or ParameterDict) in its own order,
            as PyTorch does. Plain Tensors are made Parameters.
    """

    def __init__(self, parameters: Any = None):
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def _entry_names(self) -> Iterable[str]:
        return self._keys

    @staticmethod
    def _key(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}')")
        return key

    def __getitem__(self, key: str) -> Any:
        if self._key(key) not in self._keys:
            raise KeyError(f"ParameterDict: no key {key!r} (keys: {list(self._keys)})")
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._set_entry(self._key(key), _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        if self._key(key) not in self._keys:
            raise KeyError(f"ParameterDict: no key {key!r} (keys: {list(self._keys)})")
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: Any) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``self[key]``, first set to ``default`` when ``key`` is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last inserted (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with every key of ``keys`` set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def keys(self) -> Any:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((k, self[k]) for k in list(self._keys))

    def values(self) -> Iterator[Any]:
        return (self[k] for k in list(self._keys))

    def update(self, parameters: Any) -> None:
        """Add or replace entries from a mapping or an iterable of (key, value) pairs."""
        if not isinstance(parameters, Iterable) and not isinstance(parameters, Mapping):
            raise TypeError(f"ParametersDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for key, value in parameters.items():
                self[key] = value
        elif isinstance(parameters, Mapping):
            for key, value in sorted(parameters.items()):
                self[key] = value
        else:
            for j, pair in enumerate(parameters):
                if not isinstance(pair, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be "
                                    f"Iterable; is {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length "
                                     f"{len(pair)}; 2 is required")
                self[pair[0]] = pair[1]

    def __or__(self, other: ParameterDict) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(k, p, lambda t: t.type()) for k, p in self.items())


class Container(Module):
    """Deprecated (as in PyTorch): a Module whose keyword arguments become its children.

    Subclass :class:`Module` instead.
    """

    def __init__(self, **kwargs: Any):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented "
                      "in `nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
