"""The process group and its collectives, on MPI's ``COMM_WORLD`` through mpi4py.

A collective is called by every worker with arrays of the same shape: ``all_reduce`` leaves the
element-wise sum (or mean, max, ...) of all workers' arrays in each of them, ``broadcast`` copies
one worker's array into all the others. Tensors are modified in place, as in PyTorch.
"""

from __future__ import annotations

import enum
import importlib.util
import os
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

# Variables that MPI launchers set in every process they start (MPICH/Hydra and Intel MPI use the
# PMI names, Open MPI its own, PMIx-based launchers PMIX_RANK).
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")

_INSTALL_HINT = ('install it with `pip install "neuralab[distributed]"` (mpi4py and an MPI '
                 'library from the package index)')


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the workers' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _Group:
    """The one process group: MPI's world communicator."""

    comm: Any = None
    mpi: Any = None


_group = _Group()


def is_available() -> bool:
    """Whether data-parallel training can run here: mpi4py is installed."""
    return importlib.util.find_spec("mpi4py") is not None


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``/``mpirun``)."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def init_process_group(backend: str = "mpi", **kwargs: Any) -> None:
    """Join the process group of the workers started by ``mpiexec`` (rank and world size come
    from the MPI environment; a process started without ``mpiexec`` is a group of one).

    Args:
        backend: ``"mpi"``, the only one (PyTorch's ``"gloo"`` is accepted as a synonym so that
            CPU programs written for PyTorch run unchanged).
        **kwargs: PyTorch's ``init_method``, ``world_size``, ``rank`` and ``timeout`` are
            accepted when they agree with the MPI environment.
    """
    if backend not in ("mpi", "gloo"):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; neuralab "
                         "runs its collectives on MPI (backend='mpi')")
    if _group.comm is not None:
        raise RuntimeError("init_process_group: the process group is already initialised "
                           "(call destroy_process_group() first)")
    unknown = set(kwargs) - {"init_method", "world_size", "rank", "timeout"}
    if unknown:
        raise TypeError(f"init_process_group: unexpected arguments {sorted(unknown)}")
    if importlib.util.find_spec("mpi4py") is None:
        raise RuntimeError(f"init_process_group: mpi4py is not installed; {_INSTALL_HINT}")
    from mpi4py import MPI  # optional dependency: imported only when a group is wanted

    comm = MPI.COMM_WORLD
    for name, actual in (("world_size", comm.Get_size()), ("rank", comm.Get_rank())):
        given = kwargs.get(name)
        if given is not None and given not in (-1, actual):
            raise ValueError(f"init_process_group: {name}={given} but mpiexec started this "
                             f"process with {name} {actual}")
    _group.comm, _group.mpi = comm, MPI


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called."""
    return _group.comm is not None


def destroy_process_group() -> None:
    """Leave the process group (MPI itself stays initialised until the process ends)."""
    _group.comm = None


def _comm(op: str) -> Any:
    if _group.comm is None:
        raise RuntimeError(f"{op}: the default process group has not been initialised; call "
                           "neuralab.distributed.init_process_group() first")
    return _group.comm


def get_rank() -> int:
    """This worker's index, 0 to world size − 1 (0 when no group is initialised)."""
    return _group.comm.Get_rank() if _group.comm is not None else 0


def get_world_size() -> int:
    """The number of workers (1 when no group is initialised)."""
    return _group.comm.Get_size() if _group.comm is not None else 1


def barrier() -> None:
    """Wait until every worker has reached this call."""
    _comm("barrier").Barrier()


def _array_of(op: str, tensor: Any) -> Any:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a neuralab Tensor, got {type(tensor).__name__}")
    return tensor.array


def all_reduce_array(array: Any, op: ReduceOp = ReduceOp.SUM) -> Any:
    """``all_reduce`` on a contiguous ndarray, in place; returns it."""
    comm = _comm("all_reduce")
    if op is ReduceOp.AVG:
        comm.Allreduce(_group.mpi.IN_PLACE, array, op=_group.mpi.SUM)
        array /= comm.Get_size()
        return array
    mpi_op = {ReduceOp.SUM: _group.mpi.SUM, ReduceOp.PRODUCT: _group.mpi.PROD,
              ReduceOp.MIN: _group.mpi.MIN, ReduceOp.MAX: _group.mpi.MAX}[op]
    comm.Allreduce(_group.mpi.IN_PLACE, array, op=mpi_op)
    return array


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> None:
    """Replace ``tensor``'s values, on every worker, by their sum (or ``op``) over all workers."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a neuralab.distributed.ReduceOp, got {op!r}")
    _check_group("all_reduce", group, async_op)
    array = _array_of("all_reduce", tensor)
    work = xp.ascontiguousarray(array)
    all_reduce_array(work, op)
    if work is not array:
        array[...] = work


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> None:
    """Copy worker ``src``'s values of ``tensor`` into ``tensor`` on every other worker."""
    _check_group("broadcast", group, async_op)
    comm = _comm("broadcast")
    _check_rank("broadcast", src, comm.Get_size())
    array = _array_of("broadcast", tensor)
    work = xp.ascontiguousarray(array)
    comm.Bcast(work, root=src)
    if work is not array:
        array[...] = work


def broadcast_array(array: Any, src: int = 0) -> None:
    """``broadcast`` on a contiguous ndarray, in place."""
    _comm("broadcast").Bcast(array, root=src)


def all_gather(tensor_list: list, tensor: Tensor, group: Any = None,
               async_op: bool = False) -> None:
    """Fill ``tensor_list[r]`` with worker r's ``tensor``, on every worker."""
    _check_group("all_gather", group, async_op)
    comm = _comm("all_gather")
    if len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a world "
                         f"of {comm.Get_size()} workers")
    send = xp.ascontiguousarray(_array_of("all_gather", tensor))
    receive = xp.empty((comm.Get_size(),) + send.shape, dtype=send.dtype)
    comm.Allgather(send, receive)
    for out, part in zip(tensor_list, receive):
        _array_of("all_gather", out)[...] = part


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None) -> None:
    """Replace the items of ``object_list`` by worker ``src``'s (small Python objects: paths,
    settings). Objects travel between this run's own processes only; nothing is written."""
    _check_group("broadcast_object_list", group, False)
    comm = _comm("broadcast_object_list")
    _check_rank("broadcast_object_list", src, comm.Get_size())
    object_list[:] = comm.bcast(list(object_list) if comm.Get_rank() == src else None, root=src)


def abort(code: int = 1) -> None:
    """Stop every worker at once (after an error in one of them, so that none waits forever)."""
    if _group.comm is not None:
        _group.comm.Abort(code)


def _check_group(op: str, group: Any, async_op: bool) -> None:
    if group is not None:
        raise ValueError(f"{op}: only the default group (group=None) exists in neuralab")
    if async_op:
        raise ValueError(f"{op}: async_op=True is not supported; collectives are blocking")


def _check_rank(op: str, src: int, size: int) -> None:
    if not 0 <= src < size:
        raise ValueError(f"{op}: src={src} is not a rank of this world of {size} workers")
