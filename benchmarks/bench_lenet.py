"""One epoch of LeNet-5 training on MNIST: neuralab against PyTorch (CPU), in the same process.

LeNet-5 (ReLU, max pooling, 28x28 inputs with padding 2 in the first convolution; 61,706
parameters), cross-entropy, SGD (lr 0.01, momentum 0.9), batch 64, shuffled, on the full MNIST
training set (the shipped subset when the full data is not found, which the output says). Both
libraries start from the same weights and read the same uint8 images, standardised per batch.
Prints the median time per epoch of each, the ratio neuralab / PyTorch (target <= 1.0) and the
peak resident memory of the process after the neuralab epochs (measured before PyTorch is
imported, so it is neuralab's own; target < 1 GiB).

    python benchmarks/bench_lenet.py [--data-root DIR] [--repeats 3] [--threads N] [--clock cpu]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, neuralab_epoch, set_threads, summary, torch_mnist_epoch  # noqa: E402


def torch_lenet5():
    """neuralab's LeNet-5 in PyTorch, with the same parameter names."""
    import torch

    class TorchLeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
            self.classifier = torch.nn.Sequential(
                torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(),
                torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return TorchLeNet()


def measure(fn, clock) -> list[float]:
    """Seconds of one run of ``fn`` on ``clock`` (wall or process CPU time)."""
    start = clock()
    fn()
    return [clock() - start]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per library")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: each library's own choice)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--limit", type=int, default=None, help="use only N training images")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time, or the process's CPU time (steadier on a busy "
                        "machine; meaningful with --threads 1)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one neuralab epoch instead")
    args = parser.parse_args(argv)
    set_threads(args.threads)  # before NumPy is imported


    import neuralab as nl
    from neuralab import models, optim
    from neuralab.data import DataLoader, Subset
    from neuralab.data.datasets import MNIST

    nl.manual_seed(0)
    try:
        data = MNIST(args.data_root, train=True, download=False)
    except (FileNotFoundError, RuntimeError, OSError) as err:
        print(f"MNIST not available ({err}); skipping the LeNet-5 benchmark")
        return 0
    if args.limit:
        data = Subset(data, range(args.limit))
    note = " (SHIPPED SUBSET: full MNIST not found)" if getattr(data, "is_subset", False) else ""
    print(f"MNIST training images: {len(data)}{note}")

    model = models.create("lenet5")
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(data, batch_size=64, shuffle=True, seed=0)

    epoch_neuralab = neuralab_epoch(model, opt, loader)

    if args.profile:
        import cProfile
        import pstats

        epoch_neuralab()
        cProfile.runctx("epoch_neuralab()", globals(), locals(), "/tmp/bench_lenet.prof")
        pstats.Stats("/tmp/bench_lenet.prof").sort_stats("tottime").print_stats(25)
        return 0

    # neuralab's own peak memory: one epoch before PyTorch is even imported.
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    t_nl = measure(epoch_neuralab, clock)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    import torch

    print(machine_info())
    print(f"clock: {args.clock}")

    ref = torch_lenet5()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9)
    torch_epoch = torch_mnist_epoch(ref, ref_opt, data)

    # Alternate the libraries so that both see the same machine load.
    t_pt = []
    for _ in range(args.warmup):
        torch_epoch()
    for _ in range(args.repeats):
        t_pt += measure(torch_epoch, clock)
        t_nl += measure(epoch_neuralab, clock)
    # The first neuralab epoch (before torch) is kept: it is a full epoch like the others.
    print(summary("neuralab", t_nl))
    print(summary("pytorch ", t_pt))
    ratio = statistics.median(t_nl) / statistics.median(t_pt)
    print(f"ratio neuralab / pytorch (medians): {ratio:.2f}  (target <= 1.0)")
    print(f"peak RSS after the first neuralab epoch (before torch): {peak_mib:.0f} MiB "
          "(target < 1024)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
