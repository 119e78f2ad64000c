"""The backward engine: reverse-mode differentiation over the recorded graph (Lecture 6).

Backpropagation visits the ops in reverse topological order, so that each op's output gradient
(ȳ) is complete, summed over every use of the output, before its backward turns it into input
gradients (x̄). The order is computed with an explicit stack, never recursion, so a chain of
100,000 ops backpropagates without RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.backend import xp

# The engine knows Contexts and Tensors only by their attributes (ctx.inputs, tensor._ctx, ...):
# tensor.py imports the engine and function.py imports tensor.py, so importing either here would
# close a circle. "Context" in the annotations below is neuralab.autograd.function.Context.
Context = Any


def zeros_for(meta: tuple[tuple[int, ...], Any]) -> Any:
    """A zero gradient for an output that received none (for ops with several outputs)."""
    shape, dtype = meta
    return xp.zeros(shape, dtype=dtype)

# Callbacks to run once when the next backward pass has finished (data-parallel training averages
# the gradients there, as PyTorch's engine does with ``queue_callback``).
_after_backward: list[Callable[[], None]] = []


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once, right after the next ``backward()`` has filled every ``.grad``."""
    _after_backward.append(callback)


def _run_callbacks() -> None:
    while _after_backward:
        _after_backward.pop(0)()


def topological_order(root: Context) -> list[Context]:
    """The contexts reachable from ``root``, each after every context that consumes its outputs."""
    order: list[Context] = []
    visited = {id(root)}
    # Iterative post-order DFS: a frame is (context, iterator over its parents).
    stack = [(root, iter(root.inputs))]
    while stack:
        ctx, parents = stack[-1]
        for tensor in parents:
            parent = tensor._ctx
            if parent is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent.inputs)))
                break
        else:
            stack.pop()
            order.append(ctx)
    order.reverse()
    return order


def _check_not_released(ctx: Context) -> None:
    if ctx.released:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time (through "
            f"{ctx.function.__name__}), but its saved values were freed after the first backward. "
            "Pass retain_graph=True to the first backward() if you need to call it twice."
        )


def run_backward(tensor: Any, gradient: Any, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) · gradient into ``.grad`` of every leaf that requires grad."""
    Tensor = type(tensor)  # noqa: N806  (the class, without importing tensor.py: see above)
    root = tensor._ctx
    if root is None:  # a leaf: its gradient is the seed itself
        tensor._accumulate(gradient)
        _run_callbacks()
        return
    _check_not_released(root)
    # Output gradients waiting to be consumed, per context and output index.
    pending: dict[int, list] = {id(root): [None] * root.n_outputs}
    pending[id(root)][tensor._index] = gradient
    leaf_grads: dict[int, list] = {}  # id(leaf) -> [leaf, summed gradient]

    for ctx in topological_order(root):
        douts = pending.pop(id(ctx), None)
        if douts is None:
            continue
        _check_not_released(ctx)
        if ctx.grad_hooks:
            for i, hooks in ctx.grad_hooks.items():
                for hook in hooks:
                    if douts[i] is not None:
                        new = hook(Tensor._from_op(douts[i], None, 0))  # keep the dtype
                        if new is not None:
                            douts[i] = new.array if isinstance(new, Tensor) else new
        if ctx.n_outputs == 1:
            grads = ctx.function.backward(ctx, douts[0])
        else:
            douts = [d if d is not None else zeros_for(m) for d, m in zip(douts, ctx.out_meta)]
            grads = ctx.function.backward(ctx, *douts)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(ctx.inputs):
            raise RuntimeError(
                f"{ctx.function.__name__}.backward returned {len(grads)} gradients for "
                f"{len(ctx.inputs)} inputs"
            )
        for inp, need, grad in zip(ctx.inputs, ctx.needs_input_grad, grads):
            if not need or grad is None:
                continue
            if grad.shape != inp.shape:
                raise RuntimeError(
                    f"{ctx.function.__name__}.backward returned a gradient of shape {grad.shape} "
                    f"for an input of shape {inp.shape}"
                )
            parent = inp._ctx
            if parent is None:
                slot = leaf_grads.get(id(inp))
                if slot is None:
                    leaf_grads[id(inp)] = [inp, grad]
                else:
                    slot[1] = slot[1] + grad
            else:
                slots = pending.setdefault(id(parent), [None] * parent.n_outputs)
                current = slots[inp._index]
                slots[inp._index] = grad if current is None else current + grad
        if not retain_graph:
            ctx.release()

    for leaf, grad in leaf_grads.values():
        leaf._accumulate(grad)
    _run_callbacks()
