"""``DistributedDataParallel``: one model on every worker, gradients averaged after backward."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from neuralab.autograd import engine
from neuralab.autograd.grad_mode import is_enabled as is_grad_enabled
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.distributed.collectives import (
    ReduceOp,
    all_reduce_array,
    broadcast_array,
    get_world_size,
    is_initialized,
)
from neuralab.nn.module import Module

_MB = 1 << 20


def _buckets(tensors: list[Tensor], cap_bytes: int) -> list[list[Tensor]]:
    """Consecutive groups of same-dtype tensors of at most ``cap_bytes`` each (one tensor larger
    than the cap forms a bucket of its own): one collective per group, not one per tensor."""
    buckets: list[list[Tensor]] = []
    size = 0
    for t in tensors:
        nbytes = t.array.nbytes
        if buckets and buckets[-1][0].dtype == t.dtype and size + nbytes <= cap_bytes:
            buckets[-1].append(t)
            size += nbytes
        else:
            buckets.append([t])
            size = nbytes
    return buckets


def _broadcast_values(buckets: list[list[Tensor]]) -> None:
    """Copy rank 0's values of every tensor into the others', one broadcast per bucket."""
    for bucket in buckets:
        flat = xp.concatenate([t.array.ravel() for t in bucket])
        broadcast_array(flat, src=0)
        offset = 0
        for t in bucket:
            t.array[...] = flat[offset:offset + t.array.size].reshape(t.shape)
            offset += t.array.size


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (Chainer's and PyTorch's scheme).

    At construction every worker receives rank 0's parameters and buffers, so all start equal.
    Each forward pass in training mode (through the wrapper or the wrapped module itself) arranges
    for the gradients to be averaged over the workers as soon as the following ``backward()`` has
    finished:

        θ.grad ← (1/N) Σ_r θ.grad_r

    in buckets of about ``bucket_cap_mb`` megabytes, one all-reduce per bucket. Every worker then
    takes the same optimizer step from the same gradient, and the models stay identical. A
    parameter without a gradient on some worker counts as zero there; one without a gradient on
    every worker keeps ``grad`` None. Batch-norm batch statistics stay per worker, as in PyTorch;
    with ``broadcast_buffers`` rank 0's running statistics are copied to the others before each
    training forward pass (PyTorch's default).

    The averaging runs after backward rather than overlapped with it: MPI's collectives here are
    blocking calls on the training thread, so starting them early would not let them run while
    backward computes.

    Args:
        module: the model.
        device_ids, output_device: accepted for PyTorch's signature; must be None (CPU).
        broadcast_buffers: copy rank 0's buffers to the others before each training forward.
        bucket_cap_mb: the size of a gradient bucket.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25.0,
                 find_unused_parameters: bool = False):
        super().__init__()
        if not is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not been "
                               "initialised; call neuralab.distributed.init_process_group() first")
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a neuralab Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError("DistributedDataParallel: device_ids/output_device name GPUs; "
                             "neuralab runs on the CPU, leave them out")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        cap = int(bucket_cap_mb * _MB)
        # Gradients are complete only after backward, so the order of buckets does not matter;
        # PyTorch's reverse order (last layer first) is kept for when they are overlapped.
        trained = [p for p in module.parameters() if p.requires_grad]
        self._grad_buckets = _buckets(trained[::-1], cap)
        self._buffer_buckets = _buckets(list(module.buffers()), cap)
        self._sync_queued = False
        _broadcast_values(_buckets(list(module.parameters()), cap))
        _broadcast_values(self._buffer_buckets)
        # Hooked on the module itself, so that code holding the plain model (the Trainer, which
        # checkpoints it without the wrapper's ``module.`` prefix) averages gradients too.
        self._hook = module.register_forward_pre_hook(self._before_forward)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _before_forward(self, module: Module, args: tuple) -> None:
        """A pre-forward hook on the wrapped module: in training, queue the gradient averaging
        for the end of the next backward (once, however many forward passes precede it)."""
        if module.training and is_grad_enabled():
            if self.broadcast_buffers and self._buffer_buckets:
                _broadcast_values(self._buffer_buckets)
            if self.require_backward_grad_sync and not self._sync_queued:
                engine.queue_callback(self._average_gradients)
                self._sync_queued = True

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside this block backward keeps each worker's own gradients (gradient accumulation
        over several micro-batches); the first backward after it averages the sums."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _average_gradients(self) -> None:
        """All-reduce every bucket of gradients and divide by the number of workers."""
        self._sync_queued = False
        world = get_world_size()
        for bucket in self._grad_buckets:
            sizes = [p.array.size for p in bucket]
            # One buffer per bucket: the gradients, then one flag per parameter counting the
            # workers that computed its gradient.
            flat = xp.zeros(sum(sizes) + len(bucket), dtype=bucket[0].dtype)
            offset = 0
            for k, (p, n) in enumerate(zip(bucket, sizes)):
                if p.grad is not None:
                    flat[offset:offset + n] = p.grad.array.ravel()
                    flat[len(flat) - len(bucket) + k] = 1
                offset += n
            all_reduce_array(flat, ReduceOp.SUM)
            flat /= flat.dtype.type(world)
            offset = 0
            for k, (p, n) in enumerate(zip(bucket, sizes)):
                if flat[len(flat) - len(bucket) + k] > 0:
                    mean = flat[offset:offset + n].reshape(p.shape)
                    if p.grad is not None:
                        p.grad.array[...] = mean
                    else:
                        p.grad = Tensor(mean.copy(), dtype=mean.dtype)
                offset += n
