"""``nn.DataParallel`` and ``nn.SyncBatchNorm`` as they behave on one CPU process.

PyTorch's ``DataParallel`` splits each batch over GPUs; with none (neuralab's case, as PyTorch
without CUDA) it is a wrapper whose forward calls the module, so code written for several GPUs
runs unchanged, and its state dict names every tensor ``module.<name>`` as PyTorch's does
(``neuralab.interop`` strips that prefix when loading into the bare model).

``SyncBatchNorm`` averages batch statistics over the processes of a distributed job; in a single
process (no process group initialized) it is batch normalization over any (N, C, *) input, as
PyTorch's falls back to ``F.batch_norm`` there.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module
from neuralab.nn.norm import _BatchNorm

__all__ = ["DataParallel", "SyncBatchNorm"]


class DataParallel(Module):
    """Wraps ``module``; ``forward`` calls it (one device: nothing to split or gather).

    Args:
        module: the model.
        device_ids: GPUs to use; ignored without GPUs (as PyTorch), so ``device_ids`` is [].
        output_device: ignored likewise (None).
        dim: the dimension a batch would be split along.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a neuralab Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.src_device_obj = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over (N, C, *) inputs, synchronized across processes in PyTorch;
    in one process exactly ``BatchNorm1d/2d/3d`` (statistics over N and every position).

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the new batch in the running averages; None = cumulative average.
        affine: learn γ (weight) and β (bias).
        track_running_stats: keep running averages, used in evaluation mode.
        process_group: the group statistics would be shared with (kept, unused here).
        dtype: of the parameters and buffers.
    """

    _ranks = tuple(range(2, 33))
    _layout = "(N, C, *)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype=dtype)
        self.process_group = process_group

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {x.ndim}D input) "
                             "of shape (N, C, *)")
        if x.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(x)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every batch-norm layer in ``module`` (itself included) by a SyncBatchNorm
        that shares its parameters and buffers; returns the converted module."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
