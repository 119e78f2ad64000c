"""The DataLoader: mini-batches from a dataset (Lecture 4, SGD), as ``torch.utils.data``'s.

Stochastic gradient descent visits the training set in a fresh random order every epoch and
computes each update on a mini-batch. For data held in memory the loader takes a whole batch
with one fancy-indexing operation ``data[indices]`` (no Python loop over examples); other
datasets are read item by item and put together by ``collate_fn`` (``default_collate``).

The fast path is taken only when it gives what reading item by item would: the data set has no
per-example ``target_transform`` and its ``transform`` is None or a deterministic pipeline that
works on a whole batch (``ToTensor`` + ``Normalize``, see ``transforms.batch_transform``).
Any other transform (random crops, flips, ``Lambda``...) is applied to each example exactly once,
by the data set's ``__getitem__``.

Shuffling is reproducible: epoch ``e`` uses the permutation drawn from a generator seeded with
``(seed, e)``, so a run resumed at epoch ``e`` sees exactly the batches an uninterrupted run saw.
With ``generator=`` (PyTorch's way) the permutations come from that generator instead.

With ``num_workers=N > 0`` the batches are made by N worker processes (``neuralab.data.worker``):
the same batches in the same order as without workers, made ahead of time (``prefetch_factor``
batches per worker) while the main process trains. Random augmentations in workers draw from
per-worker generators seeded from a base seed drawn at the start of each pass (or once, with
``persistent_workers``), so a run is reproducible for a given N. ``get_worker_info()`` tells code
in a worker which worker it is; ``worker_init_fn(worker_id)`` runs in each new worker.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from neuralab.autograd.tensor import Tensor
from neuralab.backend import as_rng, default_float, rng, xp
from neuralab.data.dataset import Dataset, IterableDataset, Subset, TensorDataset
from neuralab.data.sampler import BatchSampler, Sampler
from neuralab.data.transforms import batch_transform
from neuralab.data.worker import (
    LoaderStats,
    WorkerIterator,
    default_start_method,
    get_worker_info,
)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info",
           "to_batch_arrays"]


def _to_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


def _tensor(array: Any) -> Tensor:
    return Tensor._from_op(array, None, 0)


def _array_dtype(array: Any) -> Any:
    """neuralab's dtypes for a batch array: floats float32 (the default float), other integers
    int64 as Python ints give; uint8, bool and int64 stay as they are."""
    if array.dtype.kind == "f":
        return array.astype(default_float, copy=False)
    if array.dtype.kind in "iu" and array.dtype != xp.uint8:
        return array.astype(xp.int64, copy=False)
    return array


def default_convert(data: Any) -> Any:
    """What the DataLoader does to each example when ``batch_size=None``: arrays and numbers
    become Tensors; tuples, lists and dicts are converted item by item."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (xp.ndarray, xp.number)):
        return _tensor(_array_dtype(xp.asarray(data)))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch: Sequence) -> Any:
    """Put a list of examples together into a batch, as PyTorch's ``default_collate``.

    * Tensors and arrays are stacked along a new first axis (Tensor); Python ints give int64,
      floats float32 (neuralab's default float; PyTorch gives float64), bools bool;
    * strings (and other objects) are kept as a list;
    * a dict gives a dict of batches, a tuple or list gives a list of batches (one per field),
      a namedtuple the same namedtuple.

    Raises:
        ValueError: an empty batch, or examples of different structure.
        TypeError: an example field of a type that cannot be batched (None...).
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _tensor(xp.stack([b.array for b in batch]))
    if isinstance(elem, (xp.ndarray, xp.number)):
        return _tensor(_array_dtype(xp.stack([xp.asarray(b) for b in batch])))
    if isinstance(elem, bool):
        return _tensor(xp.asarray(batch, dtype=xp.bool_))
    if isinstance(elem, int):
        return _tensor(xp.asarray(batch, dtype=xp.int64))
    if isinstance(elem, float):
        return _tensor(xp.asarray(batch, dtype=default_float))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise ValueError(f"default_collate: every example must have the same number of "
                             f"fields, got {sorted({len(b) for b in batch})}")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
            return type(elem)(*fields)
        return fields
    raise TypeError(f"default_collate: cannot batch examples of type {type(elem).__name__}; "
                    "batches hold Tensors, arrays, numbers, strings, dicts, lists and tuples of "
                    "these (give collate_fn= for anything else)")


def to_batch_arrays(x: Any, y: Any = None) -> tuple:
    """Apply neuralab's dtype rules to an in-memory batch: images (uint8) become float32 in
    [0, 1], other floats float32, integer class labels int64."""
    x = _to_array(x)
    if x.dtype == xp.uint8:
        x = x.astype(default_float) * default_float(1.0 / 255.0)
    elif x.dtype.kind == "f":
        x = x.astype(default_float, copy=False)
    elif x.dtype.kind in "iub":
        x = x.astype(xp.int64, copy=False)
    if y is None:
        return (x,)
    y = _to_array(y)
    y = y.astype(xp.int64, copy=False) if y.dtype.kind in "iub" else \
        y.astype(default_float, copy=False)
    return x, y


def _indexing_is_declared(dataset: Any) -> bool:
    """True when the class whose ``__getitem__`` ``dataset`` uses declares (``_array_batched``)
    that taking ``data[rows]`` and ``targets[rows]`` gives what ``__getitem__`` gives.

    A user's subclass that overrides ``__getitem__`` is read item by item, so its own
    ``__getitem__`` is never skipped.
    """
    for klass in type(dataset).__mro__:
        if "__getitem__" in vars(klass):
            return bool(vars(klass).get("_array_batched", False))
    return False


def _array_source(dataset: Dataset) -> tuple | None:
    """``(data, targets, index_map, to_input)`` when ``dataset`` can be batched by fancy indexing.

    That is when it keeps its examples in two arrays and has no per-example transform, or one
    that works on whole batches. Subsets of such a dataset (``random_split``) resolve to the base
    arrays plus the subset's index map. ``to_input`` turns a raw batch into model input (the
    dataset's ``transform_batch``, the batched transform), or is None.
    """
    index_map = None
    while isinstance(dataset, Subset):
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        if len(dataset.arrays) != 2:
            return None
        return dataset.arrays[0], dataset.arrays[1], index_map, None
    if not _indexing_is_declared(dataset) or dataset.target_transform is not None:
        return None
    data, targets = dataset.data, dataset.targets
    if not (isinstance(data, xp.ndarray) and isinstance(targets, xp.ndarray)
            and len(data) == len(targets)):
        return None
    if dataset.transform is not None:
        batched = batch_transform(dataset.transform)
        return None if batched is None else (data, targets, index_map, batched)
    return data, targets, index_map, dataset.transform_batch


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value < minimum:
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"DataLoader: {name} must be a {kind} integer, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a ``Dataset`` (indexable) or ``IterableDataset``. In-memory ones (``.data`` /
            ``.targets`` arrays, ``TensorDataset``, and ``Subset`` of these) are batched by fancy
            indexing when their transform allows it (see the module's docstring).
        batch_size: examples per batch; None gives the examples one by one, unbatched.
        shuffle: visit the examples in a new random order every epoch.
        sampler: the order of the indices (exclusive with ``shuffle``).
        batch_sampler: yields whole lists of indices (exclusive with ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: worker processes making the batches; 0 makes them in this process.
        collate_fn: turns a list of examples into a batch (``default_collate``).
        pin_memory: accepted; no effect on a CPU-only library.
        drop_last: drop the final batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from a worker before raising (0: no limit).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker when it starts
            (after its generators are seeded).
        multiprocessing_context: a start method name ("fork", "spawn", "forkserver") or a
            ``multiprocessing`` context; default fork where available (Linux), else spawn.
        prefetch_factor: batches each worker prepares ahead (default 2; needs workers).
        persistent_workers: keep the workers (and their state) from one pass to the next.
        pin_memory_device: accepted; no effect on a CPU-only library.
        in_order: accepted; batches always come in the sampler's order.
        generator: ``neuralab.Generator`` or NumPy generator for shuffling and samplers, and
            for the workers' base seed (one draw per pass, with or without workers).
        seed: neuralab's reproducible shuffling: epoch e uses the permutation of ``(seed, e)``;
            None draws one from neuralab's generator when the loader is made, so
            ``neuralab.manual_seed`` makes runs reproducible.
        transform: neuralab's per-batch hook ``transform(x_array) -> x_array`` applied to the
            float32 input batch of an in-memory dataset: data augmentation on the whole batch at
            once (give it to the training loader only).

    Attributes:
        stats: ``LoaderStats``: batches and examples delivered, the seconds spent making them
            and the seconds the caller waited for them, summed over every pass (the loader's
            own images/s beside the training's, at no cost worth measuring).

    Batches from an in-memory dataset are ``[Tensor x, Tensor y]``: x float32 (uint8 images
    scaled to [0, 1], or the dataset's own ``transform_batch``, e.g. MNIST's standardisation),
    y int64 class labels. Others are what ``collate_fn`` makes of the examples.

    Example:
        >>> loader = DataLoader(MNIST(train=True), batch_size=64, shuffle=True, seed=0)
        >>> for x, y in loader:        # x (64, 1, 28, 28) float32, y (64,) int64
        ...     ...
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler: Any = None,
                 num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None,
                 transform: Callable | None = None):
        if batch_size is not None:
            batch_size = _check_count("batch_size", batch_size, 1)
        num_workers = _check_count("num_workers", num_workers, 0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
                not timeout >= 0 or timeout == float("inf"):
            raise ValueError(f"DataLoader: timeout must be a non-negative, finite number of "
                             f"seconds, got {timeout!r}")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("DataLoader: multiprocessing_context applies to worker "
                                 "processes only; give num_workers > 0 with it")
            methods = multiprocessing.get_all_start_methods()
            if isinstance(multiprocessing_context, str) and \
                    multiprocessing_context not in methods:
                raise ValueError(f"DataLoader: multiprocessing_context must be one of "
                                 f"{methods} on this platform, got {multiprocessing_context!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor applies to worker processes only; "
                             "give num_workers > 0 with it")
        if prefetch_factor is not None:
            _check_count("prefetch_factor", prefetch_factor, 1)
        elif num_workers > 0:
            prefetch_factor = 2
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn),
                         ("transform", transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable, got "
                                f"{type(fn).__name__}")
        as_rng(generator)  # a wrong generator fails here, not at the first batch
        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError("DataLoader: shuffle=True does not apply to an "
                                 "IterableDataset (it has no indices to permute)")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: sampler and batch_sampler do not apply to an "
                                 "IterableDataset")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)
        self.drop_last = bool(drop_last)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self.transform = transform
        self._iterator: WorkerIterator | None = None  # the persistent workers
        self.stats = LoaderStats()
        # The shuffling seed is fixed once; each epoch derives its own generator from it. With a
        # generator the order comes from it instead, and the global generator is left alone.
        if seed is not None:
            self.seed = int(seed)
        else:
            self.seed = 0 if generator is not None else int(rng().integers(2**63 - 1))
        self.epoch = 0
        self._epoch_set = False
        self._source = None if collate_fn is not None or isinstance(dataset, IterableDataset) \
            else _array_source(dataset)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
        else:
            n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffling order of ``epoch`` for the next iteration (for resuming a run).

        Without calls to ``set_epoch`` every new iteration advances to the next epoch.
        """
        self.epoch = int(epoch)
        self._epoch_set = True

    def state_dict(self) -> dict:
        """What reproduces the order of batches: the seed and the next epoch."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed = int(state["seed"])
        self.set_epoch(int(state["epoch"]))

    def _order(self, epoch: int) -> Any:
        n = len(self.dataset)
        if not self.shuffle:
            return xp.arange(n)
        if self.generator is not None:
            return as_rng(self.generator).permutation(n)
        return xp.random.default_rng([self.seed, epoch]).permutation(n)

    def _index_batches(self, epoch: int) -> Iterator[Any]:
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        if self.sampler is not None:
            if self.batch_size is None:
                yield from ([i] for i in self.sampler)
            else:
                yield from BatchSampler(self.sampler, self.batch_size, self.drop_last)
            return
        order = self._order(epoch)
        n, bs = len(order), self.batch_size or 1
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            yield order[start:start + bs]

    def _fetcher(self) -> _Fetcher:
        return _Fetcher(self.dataset, self._source, self.collate_fn, self.transform,
                        self.batch_size, self.drop_last,
                        unbatched=self.batch_size is None and self.batch_sampler is None)

    def _context(self) -> Any:
        context = self.multiprocessing_context
        if context is None:
            return multiprocessing.get_context(default_start_method())
        if isinstance(context, str):
            return multiprocessing.get_context(context)
        return context

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return self._iterate_here()
        epoch = self.epoch
        self.epoch, self._epoch_set = epoch + 1, False
        tasks = None if isinstance(self.dataset, IterableDataset) else \
            iter(self._index_batches(epoch))
        base_seed = self._base_seed()
        if self._iterator is not None and self._iterator.alive:  # persistent workers
            self._iterator.reset(tasks)
            return self._iterator
        iterator = WorkerIterator(self._fetcher(), tasks, self.num_workers,
                                  self.prefetch_factor, self.timeout, self.worker_init_fn,
                                  self._context(), base_seed, self.persistent_workers,
                                  self.stats)
        if self.persistent_workers:
            self._iterator = iterator
        return iterator

    def _base_seed(self) -> int:
        """The seed of the workers of a new pass (worker k seeds with base + k), drawn as
        PyTorch draws it: from ``generator``, else from neuralab's global generator.

        With a ``generator`` every pass draws one, with workers or without and with persistent
        workers too (who keep their first one), so the shuffled order is the same whatever
        ``num_workers``. Without one the order comes from ``seed`` and a pass in this process
        draws nothing (runs without workers keep their numbers).
        """
        return int(as_rng(self.generator).integers(2**63 - 1 - self.num_workers))

    def _iterate_here(self) -> Iterator[Any]:
        epoch = self.epoch
        # The next iteration moves on to the next epoch unless set_epoch says otherwise.
        self.epoch, self._epoch_set = epoch + 1, False
        if self.generator is not None:
            self._base_seed()
        fetcher = self._fetcher()
        if isinstance(self.dataset, IterableDataset):
            stream = fetcher.stream()
            while True:
                start = time.perf_counter()
                batch = next(stream, _END)
                if batch is _END:
                    return
                self._made(start, 0)
                yield batch
        for indices in self._index_batches(epoch):
            start = time.perf_counter()
            batch = fetcher.fetch(indices)
            self._made(start, len(indices))
            yield batch

    def _made(self, start: float, examples: int) -> None:
        seconds = time.perf_counter() - start
        stats = self.stats
        stats.batches, stats.examples = stats.batches + 1, stats.examples + examples
        stats.make_seconds += seconds
        stats.wait_seconds += seconds


_END = object()  # the end of a stream


class _Fetcher:
    """Turns one task into a batch: an index batch (``fetch``) or the next batch of the data
    set's stream (``stream``). The same object runs in this process (``num_workers=0``) and in
    each worker, so that both give the same batches."""

    def __init__(self, dataset: Any, source: tuple | None, collate_fn: Callable | None,
                 transform: Callable | None, batch_size: int | None, drop_last: bool,
                 unbatched: bool):
        self.dataset, self.source, self.collate_fn = dataset, source, collate_fn
        self.transform, self.batch_size, self.drop_last = transform, batch_size, drop_last
        self.unbatched = unbatched

    def fetch(self, indices: Any) -> Any:
        if self.unbatched:
            item = self.dataset[int(indices[0])]
            return default_convert(item) if self.collate_fn is None else self.collate_fn(item)
        return self._batch(xp.asarray(indices, dtype=xp.int64))

    def stream(self) -> Iterator[Any]:
        items: list = []
        for item in self.dataset:
            if self.batch_size is None:
                yield default_convert(item) if self.collate_fn is None else self.collate_fn(item)
                continue
            items.append(item)
            if len(items) == self.batch_size:
                yield self._collate(items)
                items = []
        if items and not self.drop_last:
            yield self._collate(items)

    def _collate(self, items: list) -> Any:
        if self.collate_fn is None:
            return default_collate(items)
        out = self.collate_fn(items)
        if isinstance(out, (tuple, list)):
            # A collate_fn may return arrays: neuralab hands them on as Tensors.
            return type(out)(_tensor(o) if isinstance(o, xp.ndarray) else o for o in out) \
                if not hasattr(out, "_fields") else out
        return _tensor(out) if isinstance(out, xp.ndarray) else out

    def _batch(self, indices: Any) -> Any:
        if self.source is None:
            batch = self._collate([self.dataset[int(i)] for i in indices])
            if self.transform is not None and isinstance(batch, list) and batch \
                    and isinstance(batch[0], Tensor):
                batch[0] = _tensor(_to_array(self.transform(batch[0].array)))
            return batch
        data, targets, index_map, to_input = self.source
        rows = indices if index_map is None else index_map[indices]
        x, y = data[rows], targets[rows]
        if to_input is not None:
            x = to_input(x)
        arrays = list(to_batch_arrays(x, y))
        if self.transform is not None:
            arrays[0] = _to_array(self.transform(arrays[0]))
        return [_tensor(a) for a in arrays]
