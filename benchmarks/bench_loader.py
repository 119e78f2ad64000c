"""Does data loading keep up with training? CIFAR-10 images/s of the DataLoader at num_workers
0, 1 and 2 beside ResNet-20's training images/s, on the same machine, in one process.

    python benchmarks/bench_loader.py [--batches 40] [--steps 5] [--batch-size 128]
                                      [--data-root ../shared/datasets] [--workers 0 1 2]

Two loading pipelines, both with the CIFAR augmentation (pad 4 + random 32x32 crop,
horizontal flip, per-channel normalization):

* ``arrays``: what ``neuralab train --data cifar10`` does: the JPEGs decoded once into a uint8
  array (cached), each batch cropped, flipped and normalized by whole-batch array operations.
* ``jpeg``: torchvision's usual pipeline: every image decoded from its JPEG bytes each time it is
  read, then cropped, flipped, converted and normalized one image at a time.

Loader images/s count the batches after the first (the first includes starting the workers,
reported apart). Training images/s are ResNet-20 steps (batch 128, SGD with momentum) on one
fixed batch (compute alone) interleaved with steps fed by each loader (waiting for the batch
included): a loader keeps up when the fed rate matches the compute-alone rate. The pipe
transfer lines time what the main process spends receiving a batch a worker sends. The
CIFAR-10 archive is looked for in ``--data-root`` (default ``../shared/datasets``, as beside
the project's checkout); without it the benchmark says so and exits.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine_info  # noqa: E402

ARCHIVE = "cifar10-jpg.tar.gz"


class JpegImages:
    """CIFAR-10 training images kept as JPEG bytes, decoded and augmented one by one."""

    def __init__(self, archive: Path, limit: int, transform):
        self.items, self.transform = [], transform
        with tarfile.open(archive) as tar:
            members = [m for m in tar if m.isfile() and "/train/" in m.name]
        classes = sorted({m.name.split("/")[-2] for m in members})
        # Every class: spread the limit over the archive's train images.
        step = max(1, len(members) // limit)
        with tarfile.open(archive) as tar:
            for m in members[::step][:limit]:
                self.items.append((tar.extractfile(m).read(), classes.index(m.name.split("/")[-2])))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        import numpy as np
        from PIL import Image

        data, label = self.items[i]
        image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        return self.transform(image), label


def _jpeg_transform():
    from neuralab.data import transforms
    from neuralab.data.datasets.cifar import CIFAR10_MEAN, CIFAR10_STD

    return transforms.Compose([transforms.ToTensor(), transforms.RandomCrop(32, padding=4),
                               transforms.RandomHorizontalFlip(),
                               transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])


def loader_rate(make_loader, batches: int) -> tuple[float, float, list]:
    """(images/s after the first batch, seconds to the first batch, the first batch)."""
    loader = make_loader()
    start = time.perf_counter()
    iterator = iter(loader)
    first = next(iterator)
    t_first = time.perf_counter() - start
    seen, t0 = 0, time.perf_counter()
    for _, (x, _y) in zip(range(batches - 1), iterator):
        seen += len(x)
    rate = seen / (time.perf_counter() - t0)
    del iterator
    return rate, t_first, first


def training_rates(model, optimizer, fixed, loader, steps: int) -> tuple[float, float]:
    """ResNet-20 images/s on one fixed batch (compute alone) and fed by ``loader`` (the wait
    for each batch included), the two kinds of step interleaved so that a change in the
    machine's load affects both alike; medians over ``steps`` of each."""
    import neuralab.nn.functional as F

    def step(x, y) -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    iterator = iter(loader)
    step(*next(iterator))  # warm-up (and the workers' start) not timed
    alone, fed = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        step(*fixed)
        t1 = time.perf_counter()
        x, y = next(iterator)
        step(x, y)
        t2 = time.perf_counter()
        alone.append(t1 - t0)
        fed.append(t2 - t1)
    del iterator
    n = len(fixed[1])
    return n / statistics.median(alone), n / statistics.median(fed)


def _send_batches(conn, shape, count: int, folder) -> None:
    import numpy as np

    from neuralab.data.worker import _to_shared

    batch = np.ones(shape, dtype=np.float32)
    for i in range(count):
        message = [batch, np.arange(shape[0])]
        conn.send(message if folder is None else _to_shared(message, folder, str(i)))
    conn.close()


def transfer_cost(shape: tuple, shared: bool, count: int = 10) -> float:
    """Seconds the main process spends receiving one float32 batch of ``shape`` from a worker
    as the DataLoader's workers send them: pickled through the pipe, or (``shared``) written
    to a file in shared memory and read back with one copy."""
    import multiprocessing as mp
    import shutil
    import tempfile

    from neuralab.data.worker import SHARED_MEMORY_ROOT, _from_shared, default_start_method

    if shared and SHARED_MEMORY_ROOT is None:
        return float("nan")
    folder = tempfile.mkdtemp(dir=SHARED_MEMORY_ROOT) if shared else None
    context = mp.get_context(default_start_method())
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_send_batches, args=(send, shape, count, folder),
                              daemon=True)
    process.start()
    send.close()
    _from_shared(receive.recv())  # the first batch waits for the process to start
    times = []
    for _ in range(count - 1):
        receive.poll(None)  # the batch is on its way: time the copy, not the wait
        t0 = time.perf_counter()
        _from_shared(receive.recv())
        times.append(time.perf_counter() - t0)
    process.join()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2]
                                                   / "shared" / "datasets"))
    parser.add_argument("--batches", type=int, default=40, help="loader batches per setting")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per setting")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=None,
                        help="neuralab.set_num_threads for training (default: neuralab's)")
    args = parser.parse_args()
    archive = Path(args.data_root) / ARCHIVE
    if not archive.is_file():
        print(f"bench_loader: skipped: {archive} not found (the CIFAR-10 image-folder archive "
              "of ../shared/datasets; pass --data-root DIR holding cifar10-jpg.tar.gz)")
        return 0

    import numpy as np

    import neuralab as nl
    from neuralab import models, optim
    from neuralab.data import DataLoader
    from neuralab.train import datasets

    if args.threads is not None:
        nl.set_num_threads(args.threads)
    print(machine_info())
    print(f"load average {os.getloadavg()[0]:.2f}; threads {nl.get_num_threads()}; "
          f"batch {args.batch_size}; {args.batches} loader batches, {args.steps} training steps "
          "per setting")
    nl.manual_seed(0)
    t0 = time.perf_counter()
    splits = datasets.build("cifar10", root=args.data_root, seed=0, download=False)
    print(f"CIFAR-10 decoded/cached arrays ready in {time.perf_counter() - t0:.1f}s "
          f"({len(splits.train)} training images)")
    jpeg = JpegImages(archive, args.batches * args.batch_size, _jpeg_transform())

    pipelines = {
        "arrays": lambda n: DataLoader(splits.train, batch_size=args.batch_size, shuffle=True,
                                       seed=0, transform=splits.train_transform, num_workers=n),
        "jpeg": lambda n: DataLoader(jpeg, batch_size=args.batch_size, shuffle=True, seed=0,
                                     num_workers=n),
    }
    results: dict = {}
    for name, make in pipelines.items():
        for n in args.workers:
            rate, t_first, _ = loader_rate(lambda make=make, n=n: make(n), args.batches)
            results[(name, n)] = rate
            print(f"loader {name:<6} num_workers={n}: {rate:8.0f} images/s "
                  f"(first batch after {t_first:.2f}s)", flush=True)

    for shape in [(args.batch_size, 3, 32, 32), (args.batch_size, 3, 224, 224)]:
        size = 4 * np.prod(shape) / 1e6
        from neuralab.data.worker import SHARED_MEMORY_BYTES

        # (Below SHARED_MEMORY_BYTES the workers use the pipe only.)
        for shared in (False, True)[:1 + (size * 1e6 >= SHARED_MEMORY_BYTES)]:
            seconds = transfer_cost(shape, shared)
            how = "shared memory" if shared else "pipe"
            print(f"{how:>13} transfer of a float32 batch {shape} ({size:.1f} MB): "
                  f"{1e3 * seconds:7.2f} ms in the receiving process "
                  f"({size / 1e3 / seconds:.1f} GB/s)", flush=True)

    model = models.create("resnet20", num_classes=10)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = nl.tensor(np.random.default_rng(0).standard_normal(
        (args.batch_size, 3, 32, 32)).astype(np.float32))
    y = nl.tensor(np.arange(args.batch_size) % 10)
    for name, make in pipelines.items():
        for n in args.workers:
            alone, fed = training_rates(model, optimizer, (x, y), make(n), args.steps)
            loader = results[(name, n)]
            print(f"ResNet-20 training: {alone:5.0f} images/s alone, {fed:5.0f} fed by {name:<6} "
                  f"num_workers={n} ({100 * fed / alone:.0f}%); the loader alone makes "
                  f"{loader / alone:.0f}x the images training uses", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
