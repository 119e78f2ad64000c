"""``DistributedSampler``: each worker's share of the examples, a new shared order every epoch."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from neuralab.backend import xp
from neuralab.data.sampler import Sampler
from neuralab.distributed.collectives import get_rank, get_world_size


class DistributedSampler(Sampler):
    """The indices of worker ``rank``'s share of ``dataset``, as in ``torch.utils.data``.

    Every epoch all workers draw the same permutation (seeded with ``(seed, epoch)``, the rule of
    ``neuralab.data.DataLoader``, so a single worker with ``DataLoader(shuffle=True, seed=seed)``
    sees the same order), then worker r takes every N-th index from position r:

        share_r = order[r], order[r + N], order[r + 2N], ...

    so the r-th slices of the workers' k-th batches of B/N together are exactly the k-th batch of
    B of the single worker. Shares are equal: without ``drop_last`` the order is padded by
    repeating its first indices up to a multiple of N; with it, the tail is dropped.

    Args:
        dataset: anything with ``len()``.
        num_replicas, rank: the world size and this worker's rank (default: the process group's).
        shuffle: a new permutation every epoch (call ``set_epoch`` before each epoch).
        seed: seed of the permutations; must be the same on every worker.
        drop_last: drop the tail instead of padding.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        num_replicas = get_world_size() if num_replicas is None else num_replicas
        rank = get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got "
                             f"{num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if drop_last:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``epoch`` (the same on every worker) for the next iteration."""
        self.epoch = int(epoch)

    def indices(self) -> Any:
        """This worker's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        order = (xp.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle
                 else xp.arange(n))
        if self.total_size > n:  # pad with the first indices, repeated as often as needed
            order = xp.resize(order, self.total_size) if n else order
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas].astype(xp.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(int(i) for i in self.indices())

    def __len__(self) -> int:
        return self.num_samples
