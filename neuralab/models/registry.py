"""The model registry: build any model of the zoo by name (``create("lenet5")``).

Each model module decorates its builder with ``@register(name, **meta)``; the builder takes
``num_classes`` and keyword options and returns a ``Module``. ``options`` names the keyword
options the builder takes, so that ``create`` refuses any other by name (instead of a TypeError
from deep inside a constructor) and the command line knows which models take ``in_channels``,
``in_features`` or ``dropout``. ``meta`` records facts the command line and the summaries use,
such as ``input_shape=(1, 28, 28)`` and ``dataset="mnist"``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelEntry", "create", "get_entry", "list_models", "register"]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, builder, the keyword options it takes and metadata."""

    name: str
    builder: Callable[..., Any]
    meta: dict = field(default_factory=dict)
    options: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        """First line of the builder's docstring."""
        return (self.builder.__doc__ or "").strip().splitlines()[0] if self.builder.__doc__ \
            else ""


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, options: tuple[str, ...] = (), **meta: Any) -> Callable:
    """Decorator: register ``fn(num_classes=..., **options) -> Module`` under ``name``.

    Args:
        name: the model's name (stored lower-case).
        options: the keyword options the builder takes besides ``num_classes``; ``create``
            refuses any other.
        **meta: facts for the command line and summaries (``input_shape``, ``dataset``...).

    Example:
        >>> @register("mlp", options=("hidden", "dropout"), input_shape=(1, 28, 28))
        ... def mlp(num_classes=10, **options):
        ...     return MLP(num_classes=num_classes, **options)
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register: the model name must be a non-empty string, got {name!r}")
    key = name.lower()

    def decorate(fn: Callable) -> Callable:
        if key in _REGISTRY and _REGISTRY[key].builder is not fn:
            old = _REGISTRY[key].builder
            # Re-importing the same module (e.g. importlib.reload) re-registers the same builder.
            if (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
                raise ValueError(f"register: a model named {name!r} is already registered by "
                                 f"{old.__module__}.{old.__qualname__}")
        _REGISTRY[key] = ModelEntry(key, fn, dict(meta), tuple(options))
        return fn

    return decorate


def get_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; unknown names raise a KeyError listing close matches."""
    key = str(name).lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"models: unknown model {name!r}{hint} Available: "
                       f"{', '.join(list_models()) or '(none)'}")
    return _REGISTRY[key]


def create(name: str, num_classes: int | None = None, **options: Any) -> Any:
    """Build the model registered as ``name``.

    Args:
        name: a name from ``list_models()`` (case-insensitive).
        num_classes: number of output classes; None keeps the builder's default.
        **options: passed to the builder (``hidden=(512,)``, ``dropout=0.5``...).

    Raises:
        ValueError: an option the model does not take (named with the options it does take).
    """
    entry = get_entry(name)
    for option in options:
        if option not in entry.options:
            raise ValueError(f"models: {entry.name} takes no option {option!r}; its options: "
                             f"{', '.join(entry.options) or '(none)'}")
    if num_classes is not None:
        options["num_classes"] = num_classes
    return entry.builder(**options)


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)
