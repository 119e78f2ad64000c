"""Gradient all-reduce of data-parallel training (neuralab.distributed over MPI), against PyTorch's
gloo all-reduce of the same bytes, and what it means for N workers on a cluster.

Starts itself under ``mpiexec -n NPROC`` (default 2). For ResNet-20 (0.27M parameters, 1.1 MB of
float32 gradients) and VGG-16 (138M parameters, 553 MB) it times, on every worker at once:

* neuralab: ``DistributedDataParallel``'s bucketed gradient averaging (25 MB buckets, MPI
  ``Allreduce`` on shared memory between the processes of this machine);
* PyTorch: ``torch.distributed.all_reduce`` (gloo over loopback TCP) of one tensor of the same size;

and on rank 0 alone one training step (forward + backward + SGD) of each model, so that the
communication-to-compute ratio can be worked out. It then projects the speed-up of N workers
with a global batch B (each worker B/N) for several network bandwidths, with the ring all-reduce
cost of Thakur et al. (2005): each worker sends and receives 2(N−1)/N of the gradient bytes S,

    T_comm(N) = 2(N−1)·α·buckets + 2(N−1)/N · S / bandwidth,
    speed-up(N) = T_step / (T_step / N + T_comm(N)),

with α the per-message latency and T_step one worker's time for the whole global batch.

    python benchmarks/bench_allreduce.py [--nproc 2] [--repeats 5] [--vgg-batch 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info  # noqa: E402

BANDWIDTHS = {"10 GbE": 1.25e9, "25 GbE": 3.125e9, "100 Gb InfiniBand": 12.5e9}
LATENCY = 5e-6  # seconds per message on a cluster network (order of magnitude)
WORKERS = (2, 4, 8, 16, 32)
# Workers as fast as this CPU, and workers 100x faster (a GPU-class node): the faster the compute,
# the sooner communication dominates.
FASTER = (1, 100)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nproc", type=int, default=2, help="workers started by mpiexec")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--resnet-batch", type=int, default=128, help="global batch of ResNet-20")
    p.add_argument("--vgg-batch", type=int, default=2,
                   help="images of VGG-16's timed step (224x224; scaled to 256 in the projection)")
    p.add_argument("--vgg-global-batch", type=int, default=256)
    return p.parse_args(argv)


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_allreduce_time(n_floats: int, repeats: int, rank: int, world: int) -> float | None:
    """PyTorch's gloo all-reduce of ``n_floats`` float32 values (None without torch)."""
    try:
        import torch
        import torch.distributed as tdist
    except ImportError:
        return None
    if not tdist.is_initialized():
        tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:29531", rank=rank,
                                 world_size=world)
    t = torch.ones(n_floats)

    def reduce() -> None:
        tdist.all_reduce(t)
        t.div_(world)

    return median_time(reduce, repeats)


def step_time(model, shape: tuple, repeats: int) -> float:
    """One SGD training step of ``model`` on a batch of ``shape`` (seconds, median)."""
    import numpy as np

    import neuralab as nl
    from neuralab import optim
    from neuralab.nn import functional as F

    x = nl.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    y = nl.tensor(np.zeros(shape[0], dtype=np.int64))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return median_time(step, repeats)


def worker(args: argparse.Namespace) -> None:
    import numpy as np

    import neuralab as nl
    import neuralab.distributed as dist

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    results = []
    for name, image, global_batch, step_batch in (
            ("resnet20", (3, 32, 32), args.resnet_batch, args.resnet_batch),
            ("vgg16", (3, 224, 224), args.vgg_global_batch, args.vgg_batch)):
        nl.manual_seed(0)
        model = nl.models.create(name, num_classes=10 if name == "resnet20" else 1000)
        ddp = dist.DistributedDataParallel(model)
        params = [p for p in model.parameters() if p.requires_grad]
        for p in params:
            p.grad = nl.tensor(np.ones(p.shape, dtype=np.float32))
        n_floats = sum(p.array.size for p in params)
        dist.barrier()
        ours = median_time(ddp._average_gradients, args.repeats)
        theirs = torch_allreduce_time(n_floats, args.repeats, rank, world)
        dist.barrier()
        step = None
        if rank == 0:  # compute alone, the other workers idle at the barrier
            repeats = args.repeats if name == "resnet20" else 2
            step = step_time(model, (step_batch, *image), repeats) * global_batch / step_batch
        dist.barrier()
        results.append((name, n_floats, len(ddp._grad_buckets), ours, theirs, step, global_batch))
        del ddp, model, params
    if rank == 0:
        report(results, world)


def report(results: list, world: int) -> None:
    print(machine_info())
    print(f"\nall-reduce of the gradients, {world} workers on this machine (median):")
    print(f"{'model':10} {'gradient':>10} {'buckets':>7} {'neuralab':>10} {'PyTorch':>10} "
          f"{'ratio':>6} {'step (1 worker)':>16}")
    for name, n, buckets, ours, theirs, step, batch in results:
        ratio = f"{ours / theirs:6.2f}" if theirs else "     -"
        pt = f"{theirs * 1e3:8.1f}ms" if theirs else "         -"
        print(f"{name:10} {4 * n / 1e6:8.1f}MB {buckets:7d} {ours * 1e3:8.1f}ms {pt} {ratio} "
              f"{step:10.2f}s/{batch:<4d}")
    for name, n, buckets, ours, _theirs, measured, batch in results:
        size = 4 * n
        print(f"\n{name}: measured here, communication / compute = "
              f"{ours / (measured / world):.4f} at N={world}")
        for faster in FASTER:
            step = measured / faster
            print(f"projected speed-up of N workers, global batch {batch}, one worker "
                  f"{step:.3g} s/step" + (f" ({faster}x this CPU)" if faster > 1 else ""))
            print(f"  {'network':18}" + "".join(f"{'N=' + str(k):>8}" for k in WORKERS))
            for net, bandwidth in BANDWIDTHS.items():
                cells = []
                for k in WORKERS:
                    comm = 2 * (k - 1) * LATENCY * buckets + 2 * (k - 1) / k * size / bandwidth
                    cells.append(f"{step / (step / k + comm):8.1f}")
                print(f"  {net:18}" + "".join(cells))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ:
        worker(args)
        return 0
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        print('bench_allreduce: mpiexec not found; pip install "neuralab[distributed]"',
              file=sys.stderr)
        return 2
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.call([mpiexec, "-n", str(args.nproc), sys.executable, __file__,
                            *(argv if argv is not None else sys.argv[1:])], env=env)


if __name__ == "__main__":
    sys.exit(main())
