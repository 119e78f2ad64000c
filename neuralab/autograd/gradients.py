"""``neuralab.autograd.grad``: gradients returned to the caller instead of accumulated in ``.grad``.

PyTorch's ``torch.autograd.grad``, for gradient penalties, meta-learning sketches and checks:
the same backward pass as ``loss.backward()`` (``engine.backpropagate``), asked for the gradients
of chosen tensors (leaves or not).
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd import engine
from neuralab.autograd.tensor import Tensor


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated.

    PyTorch's ``torch.autograd.grad``: ``.grad`` of the leaves is left untouched.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor or a sequence of tensors (leaves or not) to differentiate with respect to.
        grad_outputs: ȳ for each output (may be omitted for scalar outputs).
        retain_graph: keep the graph for another backward (default: False).
        create_graph: not supported (backward passes are not themselves recorded).
        allow_unused: return None for an input the outputs do not depend on, instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient Tensor (or None) per input.
    """
    if create_graph:
        raise NotImplementedError(
            "autograd.grad: create_graph=True (higher-order gradients) is not supported: "
            "neuralab's backward passes are NumPy code that is not itself recorded")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad; the inputs "
                               "must be tensors with requires_grad=True")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"autograd.grad: element {i} of outputs does not require grad "
                               "and does not have a grad_fn")
        seeds.append(out._seed(g, "autograd.grad"))
    found = engine.backpropagate(outputs, seeds, bool(retain_graph), wanted=inputs)
    result = []
    for i, t in enumerate(inputs):
        slot = found.get(id(t))
        if slot is None:
            if materialize_grads:
                result.append(Tensor._from_op(t.array * 0, None, 0))
                continue
            if not allow_unused:
                raise RuntimeError(f"autograd.grad: input {i} (shape {tuple(t.shape)}) was not "
                                   "used in computing the outputs; pass allow_unused=True if "
                                   "this is expected")
            result.append(None)
            continue
        g = slot[1]
        result.append(Tensor._from_op(g.astype(t.array.dtype, copy=True), None, 0))
    return tuple(result)

