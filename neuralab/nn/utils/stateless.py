"""``functional_call``: run a module with some of its parameters and buffers replaced.

``functional_call(model, {"weight": w}, (x,))`` computes model(x) as if ``model.weight`` were
``w``, without changing the model: the loss becomes a function of the tensors passed in, which
is what meta-learning, per-example gradients and finite-difference checks of a whole network
need. The module's own tensors are put back afterwards, even when the forward raises.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.nn.utils import parametrize

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module: Module, given: dict[str, Any]) -> dict[str, Any]:
    """Add the names tied to a given name (the same tensor registered twice) with its value."""
    names_of: dict[int, set[str]] = {}
    for name, tensor in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = [name for name in given if name in tied]
    for name in given_tied:
        group = tied[name]
        values = {id(given[n]) for n in group if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, "
                             "which are tied. Consider using tie_weights=False")
    untied = dict(given)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = given[name]
    return untied


def _swap(module: Module, name: str, value: Any) -> Any:
    """Put ``value`` (or remove, for _MISSING) at ``module.<name>``; return what was there."""
    d = module.__dict__
    for registry in (module._parameters, module._buffers):
        if name in registry:
            old = registry[name]
            if value is _MISSING:
                del registry[name]
                d.pop(name, None)
            else:
                registry[name] = value
                d[name] = value
            return old
    if parametrize.is_parametrized(module, name):
        key = (id(module), name)
        old = parametrize._overrides.get(key, _MISSING)
        if value is _MISSING:
            parametrize._overrides.pop(key, None)
        else:
            parametrize._overrides[key] = value
        return old
    old = d.get(name, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"functional_call: attribute `{name}` of {module._get_name()} is a "
                        f"{type(old).__name__}, not a tensor, so it cannot be replaced")
    if value is _MISSING:
        d.pop(name, None)
    else:
        d[name] = value
    return old


@contextmanager
def _reparametrize_module(module: Module, parameters_and_buffers: dict[str, Any],
                          tie_weights: bool = False, strict: bool = False) -> Iterator[None]:
    values = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    for key, value in values.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"functional_call: the value for '{key}' is a "
                            f"{type(value).__name__}, not a Tensor")
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(values)), sorted(set(values) - valid)
        errors = []
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                               + "\n\t".join(errors))
    originals: list[tuple[Module, str, Any]] = []
    try:
        for key, value in values.items():
            path, _, name = key.rpartition(".")
            owner = module.get_submodule(path)
            originals.append((owner, name, _swap(owner, name, value)))
        yield
    finally:
        for owner, name, old in reversed(originals):
            _swap(owner, name, old)


def stateless_call(module: Module, parameters_and_buffers: dict[str, Any], args: Any = None,
                     kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                     strict: bool = False) -> Any:
    """``functional_call`` without the deprecation warning (``neuralab.func`` calls it)."""
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    kwargs = {} if kwargs is None else kwargs
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)


def functional_call(module: Module, parameters_and_buffers: dict[str, Any], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by
    ``parameters_and_buffers`` (dotted names as in ``state_dict``). Deprecated in PyTorch in
    favour of ``torch.func.functional_call`` (``neuralab.func.functional_call``).

    Args:
        module: the module to call.
        parameters_and_buffers: name -> Tensor; names not given keep the module's tensors. A
            parametrized tensor's own name (``weight``) replaces the parametrized value; its
            ``parametrizations.weight.original`` key replaces the original instead.
        args: the positional arguments (a single non-tuple value is one argument).
        kwargs: the keyword arguments.
        tie_weights: a tensor registered under several names (tied weights) takes the given
            value under all of them; different values for tied names raise.
        strict: require the names to be exactly the module's parameters and buffers.

    Returns:
        What the module returns.
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return stateless_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
