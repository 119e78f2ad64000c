"""Run by ``mpiexec`` from test_ddp.py: a few data-parallel SGD steps, or a failing worker.

    mpiexec -n N python ddp_worker.py steps MODEL GLOBAL_BATCH STEPS OUT.npz
    mpiexec -n N python ddp_worker.py fail RANK      (that rank raises; the others wait)
"""

from __future__ import annotations

import sys

import numpy as np

import neuralab as nl
import neuralab.distributed as dist
from neuralab import models, optim
from neuralab.nn import functional as F


def synthetic(model: str, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A fixed small data set shaped for ``model``."""
    g = np.random.default_rng(1)
    shape = (n, 784) if model == "mlp" else (n, 1, 28, 28)
    return g.standard_normal(shape).astype(np.float32), g.integers(0, 10, n)


def train_steps(model_name: str, global_batch: int, steps: int, world: int, rank: int,
                wrap: bool) -> dict:
    """``steps`` SGD steps over epochs of the synthetic set; returns the final state dict."""
    nl.manual_seed(0)
    model = models.create(model_name, num_classes=10)
    net = dist.DistributedDataParallel(model) if wrap else model
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    x, y = synthetic(model_name)
    sampler = dist.DistributedSampler(x, num_replicas=world, rank=rank, shuffle=True, seed=3)
    local = global_batch // world
    per_epoch = len(sampler) // local
    for step in range(steps):
        epoch, k = divmod(step, per_epoch)
        sampler.set_epoch(epoch)
        idx = sampler.indices()[k * local:(k + 1) * local]
        loss = F.cross_entropy(net(nl.tensor(x[idx])), nl.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def check_collectives(rank: int, world: int) -> None:
    """Each collective against the value it must produce; raises on the first mismatch."""
    t = nl.tensor([float(rank + 1), 2.0 * rank])
    dist.all_reduce(t)
    want = [sum(range(1, world + 1)), 2.0 * sum(range(world))]
    np.testing.assert_allclose(t.array, want)
    t = nl.tensor([float(rank)])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    np.testing.assert_allclose(t.array, [(world - 1) / 2])
    t = nl.tensor([float(rank)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    np.testing.assert_allclose(t.array, [world - 1])
    t = nl.tensor(np.full((2, 3), float(rank)))
    dist.broadcast(t, src=world - 1)
    np.testing.assert_allclose(t.array, np.full((2, 3), world - 1.0))
    parts = [nl.zeros(2) for _ in range(world)]
    dist.all_gather(parts, nl.tensor([float(rank), -float(rank)]))
    for r, part in enumerate(parts):
        np.testing.assert_allclose(part.array, [r, -r])
    objects = [f"from {rank}", rank]
    dist.broadcast_object_list(objects, src=0)
    assert objects == ["from 0", 0], objects
    dist.barrier()


def main(argv: list[str]) -> None:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    if argv[0] == "steps":
        model_name, global_batch, steps, out = argv[1], int(argv[2]), int(argv[3]), argv[4]
        state = train_steps(model_name, global_batch, steps, world, rank, wrap=True)
        if rank == 0:
            np.savez(out, **state)
    elif argv[0] == "collectives":
        check_collectives(rank, world)
        if rank == 0:
            print("collectives ok", flush=True)
    elif argv[0] == "fail":
        if rank == int(argv[1]):
            raise RuntimeError(f"worker {rank} failed on purpose")
        dist.barrier()  # the others would wait here for ever without the abort


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException as err:  # one failing worker stops all, with its message
        print(f"worker {dist.get_rank()}: {err}", file=sys.stderr, flush=True)
        dist.abort(1)
        raise
