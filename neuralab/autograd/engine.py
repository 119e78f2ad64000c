"""The backward engine: reverse-mode differentiation over the recorded graph (Lecture 6).

Backpropagation visits the ops in reverse topological order, so that each op's output gradient
(ȳ) is complete, summed over every use of the output, before its backward turns it into input
gradients (x̄). The order is computed with an explicit stack, never recursion, so a chain of
100,000 ops backpropagates without RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.autograd.anomaly import _state as _anomaly
from neuralab.autograd.anomaly import check_gradients
from neuralab.backend import xp
from neuralab.parallel import follow_load

# The engine knows Contexts and Tensors only by their attributes (ctx.edges, tensor._ctx, ...):
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


def topological_order(roots: Context | list[Context]) -> list[Context]:
    """The contexts reachable from ``roots``, each after every context that consumes its
    outputs."""
    roots = roots if isinstance(roots, list) else [roots]
    order: list[Context] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        # Iterative post-order DFS: a frame is (context, iterator over its parents).
        stack = [(root, iter(root.edges))]
        while stack:
            ctx, parents = stack[-1]
            for parent, _ in parents:
                if parent is not None and id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent.edges)))
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


def run_backward(tensor: Any, gradient: Any, retain_graph: bool = False,
                 only: list | None = None) -> None:
    """Accumulate d(tensor)/d(leaf) · gradient into ``.grad`` of every leaf that requires grad
    (of the leaves in ``only``, when given)."""
    follow_load()  # once a training step: threads for the cores other processes leave free
    grads = backpropagate([tensor], [gradient], retain_graph)
    allowed = None if only is None else {id(t) for t in only}
    for leaf, grad in grads.values():
        if leaf._ctx is None and (allowed is None or id(leaf) in allowed):
            leaf._accumulate(grad)
    _run_callbacks()


def backpropagate(tensors: list, gradients: list, retain_graph: bool = False,
                  wanted: list | None = None) -> dict[int, list]:
    """Run the backward pass from ``tensors`` seeded with ``gradients``.

    Returns ``{id(t): [t, gradient]}`` for every leaf that requires grad, and for the non-leaf
    tensors in ``wanted`` (their total gradient, as ``neuralab.autograd.grad`` needs).
    """
    Tensor = type(tensors[0])  # noqa: N806  (the class, without importing tensor.py: see above)
    # Output gradients waiting to be consumed, per context and output index.
    pending: dict[int, list] = {}
    leaf_grads: dict[int, list] = {}  # id(leaf) -> [leaf, summed gradient]
    roots = []
    for tensor, gradient in zip(tensors, gradients):
        root = tensor._ctx
        if root is None:  # a leaf: its gradient is the seed itself
            _add(leaf_grads, tensor, gradient)
            continue
        _check_not_released(root)
        roots.append(root)
        slots = pending.setdefault(id(root), [None] * root.n_outputs)
        current = slots[tensor._index]
        slots[tensor._index] = gradient if current is None else current + gradient
    # Non-leaf tensors whose gradient is asked for: read when their context is reached.
    watch: dict[int, list] = {}
    for t in wanted or ():
        if t._ctx is not None:
            watch.setdefault(id(t._ctx), []).append(t)
    if not roots:
        return leaf_grads

    for ctx in topological_order(roots):
        douts = pending.pop(id(ctx), None)
        if douts is None:
            continue
        _check_not_released(ctx)
        if ctx.saved_versions:
            ctx.check_versions()
        if ctx.grad_hooks:
            for i, hooks in ctx.grad_hooks.items():
                for hook in hooks:
                    if douts[i] is not None:
                        new = hook(Tensor._from_op(douts[i], None, 0))  # keep the dtype
                        if new is not None:
                            douts[i] = new.array if isinstance(new, Tensor) else new
        for t in watch.get(id(ctx), ()):
            if douts[t._index] is not None:
                leaf_grads[id(t)] = [t, douts[t._index]]
        if ctx.n_outputs == 1:
            grads = ctx.function.backward(ctx, douts[0])
        else:
            douts = [d if d is not None else zeros_for(m) for d, m in zip(douts, ctx.out_meta)]
            grads = ctx.function.backward(ctx, *douts)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if _anomaly["enabled"]:
            check_gradients(ctx, grads)
        if len(grads) != len(ctx.input_meta):
            raise RuntimeError(
                f"{ctx.function.__name__}.backward returned {len(grads)} gradients for "
                f"{len(ctx.input_meta)} inputs"
            )
        for i, ((shape, dtype), (parent, index), need, grad) in enumerate(
                zip(ctx.input_meta, ctx.edges, ctx.needs_input_grad, grads)):
            if not need or grad is None:
                continue
            if grad.shape != shape:
                raise RuntimeError(
                    f"{ctx.function.__name__}.backward returned a gradient of shape {grad.shape} "
                    f"for an input of shape {shape}"
                )
            if grad.dtype != dtype:  # the op computed in a promoted dtype
                grad = grad.astype(dtype)
            if parent is None:  # a leaf, which the context holds (see Context.held_inputs)
                _add(leaf_grads, ctx.held_inputs[i], grad)
            else:
                slots = pending.setdefault(id(parent), [None] * parent.n_outputs)
                current = slots[index]
                slots[index] = grad if current is None else current + grad
        if not retain_graph:
            ctx.release()
    return leaf_grads


def _add(grads: dict[int, list], tensor: Any, grad: Any) -> None:
    slot = grads.get(id(tensor))
    if slot is None:
        grads[id(tensor)] = [tensor, grad]
    else:
        slot[1] = slot[1] + grad

