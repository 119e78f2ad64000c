"""Data-parallel training over MPI, with PyTorch's names (``torch.distributed``).

Data parallelism: N workers each hold the same model, each computes the gradient of its share of
a mini-batch, and the gradients are averaged before every step,

    ḡ = (1/N) Σ_r g_r,    g_r = ∂L_r/∂θ on worker r's B/N examples,

so that with L_r the mean loss over worker r's examples, ḡ is the gradient of the mean loss over
all B examples: N workers with batch B/N take the same steps as one worker with batch B (up to the
order of floating-point sums). neuralab grows no networking of its own: the collectives are MPI's
(through ``mpi4py``; ``pip install "neuralab[distributed]"`` brings it and an MPI library).

    mpiexec -n 2 neuralab train --model mlp --data mnist     # or: neuralab train --nproc 2 ...

In Python::

    import neuralab.distributed as dist
    dist.init_process_group()                        # rank and world size from mpiexec
    model = dist.DistributedDataParallel(model)      # same weights everywhere, averaged gradients
    sampler = dist.DistributedSampler(train_set, shuffle=True, seed=0)
"""

from neuralab.distributed.collectives import (
    ReduceOp,
    abort,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    launched_by_mpi,
)
from neuralab.distributed.ddp import DistributedDataParallel
from neuralab.distributed.sampler import DistributedSampler

__all__ = [
    "DistributedDataParallel", "DistributedSampler", "ReduceOp", "abort", "all_gather",
    "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
    "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized",
    "launched_by_mpi",
]
