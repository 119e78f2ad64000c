"""``neuralab.func``: PyTorch's ``torch.func`` names. So far ``functional_call``: a module run as a
function of the parameters and buffers passed in (``nn.utils.stateless``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.nn.module import Module
from neuralab.nn.utils.stateless import stateless_call

__all__ = ["functional_call"]


def functional_call(module: Module, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Call ``module(*args, **kwargs)`` with parameters and buffers replaced by the tensors in
    ``parameter_and_buffer_dicts``, a dict of dotted name -> Tensor or a sequence of such dicts
    (merged; a name may appear in only one). The module itself is left unchanged.

    Example (the gradient of the loss with respect to tensors outside the model)::

        params = {k: v.detach().requires_grad_() for k, v in model.named_parameters()}
        loss = F.cross_entropy(functional_call(model, params, (x,)), y)

    Args: as ``nn.utils.stateless.functional_call`` (``tie_weights``, ``strict``).
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        merged = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    return stateless_call(module, merged, args, kwargs, tie_weights=tie_weights,
                            strict=strict)
