"""``neuralab train`` on several MPI workers: launching, sharding the data, one writer.

``neuralab train --nproc N ...`` starts ``mpiexec -n N neuralab train ...``; a ``neuralab train``
started by ``mpiexec`` joins the process group and trains data-parallel:

* every worker builds the same model; ``DistributedDataParallel`` gives them rank 0's weights and
  averages the gradients after each backward, so all take the same steps;
* ``--batch-size B`` stays the global batch: each worker takes B/N examples of every batch, its
  share of the same shuffled order a single worker would use (``DistributedSampler``), so the
  run follows the single-worker run up to the order of floating-point sums;
* only rank 0 prints, shows progress and writes the run directory, checkpoints and metrics;
  checkpoints hold the plain model, so ``--resume`` works with any number of workers;
* validation and test sets are evaluated on every worker (the same numbers everywhere, so that
  early stopping and plateau schedules decide alike);
* an error or Ctrl-C in one worker stops all of them (``MPI_Abort``) after printing its message.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

from neuralab import distributed as dist
from neuralab.data.dataloader import DataLoader


class ShardedLoader(DataLoader):
    """A DataLoader over one worker's ``DistributedSampler`` share; ``set_epoch`` (called by
    the Trainer before every epoch) moves the sampler to that epoch's shared permutation."""

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.sampler.set_epoch(epoch)


class Workers:
    """This process's place among the workers: ``rank``, ``world`` and what follows from them."""

    def __init__(self) -> None:
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @property
    def is_main(self) -> bool:
        """Rank 0: the worker that prints and writes."""
        return self.rank == 0

    def local_batch(self, batch_size: int) -> int:
        """Each worker's share of the global batch; refuses a batch the workers cannot split."""
        if batch_size % self.world:
            raise SystemExit(f"neuralab train: --batch-size {batch_size} cannot be split evenly "
                             f"between {self.world} workers; give a multiple of {self.world}")
        return batch_size // self.world

    def wrap(self, model: Any) -> Any:
        """Give every worker rank 0's weights and average gradients after each backward."""
        return dist.DistributedDataParallel(model)

    def train_loader(self, dataset: Any, batch_size: int, seed: int, transform: Any,
                     num_workers: int = 0) -> Any:
        sampler = dist.DistributedSampler(dataset, num_replicas=self.world, rank=self.rank,
                                          shuffle=True, seed=seed)
        return ShardedLoader(dataset, batch_size=self.local_batch(batch_size), sampler=sampler,
                             seed=seed, transform=transform, num_workers=num_workers)

    def barrier(self) -> None:
        """Wait until every worker is here."""
        dist.barrier()

    def stop_all(self, code: int) -> None:
        """After a failure on this worker: stop the others too instead of leaving them waiting."""
        if self.world > 1:
            sys.stderr.flush()
            dist.abort(code)


def join() -> Workers | None:
    """The worker set when this process was started by ``mpiexec``, else None."""
    if not dist.launched_by_mpi():
        return None
    if not dist.is_available():
        raise SystemExit('neuralab train: started by mpiexec but mpi4py is not installed; '
                         'pip install "neuralab[distributed]"')
    dist.init_process_group()
    return Workers()


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``neuralab ARGV`` (a ``train`` command line) on ``nproc`` workers under ``mpiexec``."""
    if dist.launched_by_mpi():
        raise SystemExit("neuralab train: --nproc starts mpiexec itself; under mpiexec leave it "
                         "out (mpiexec -n N neuralab train ...)")
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None or not dist.is_available():
        raise SystemExit(f"neuralab train: --nproc {nproc} needs MPI (mpiexec and mpi4py); "
                         'pip install "neuralab[distributed]"')
    command = [mpiexec, "-n", str(nproc), sys.executable, "-m", "neuralab", *argv]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:  # mpiexec passes Ctrl-C on to the workers and stops them
        return 130


def without_nproc(argv: list[str]) -> list[str]:
    """``argv`` less its ``--nproc N`` / ``--nproc=N``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out
