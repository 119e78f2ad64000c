"""One epoch of MLP training on MNIST: neuralab against PyTorch (CPU), in the same process.

MLP 784-256-256-10 with ReLU, cross-entropy, SGD (lr 0.05, momentum 0.9), batch 64, shuffled,
on the full MNIST training set (60,000 images; the shipped 5,000-image subset when the full
data is not found, which the output says). Both libraries start from the same weights and read
the same uint8 images, standardised per batch. Prints the median time per epoch of each and the
ratio neuralab / PyTorch (target <= 1.0), with the NumPy/BLAS and CPU details.

    NEURALAB_DATA=/path/to/mnist python benchmarks/bench_mlp.py [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, measure, neuralab_epoch, set_threads, summary, torch_mnist_epoch  # noqa: E402


def torch_mlp(model):
    """PyTorch's twin of the registry's ``mlp`` (784-256-256-10, ReLU) with ``model``'s weights."""
    import torch

    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 10))
    ref.load_state_dict({k.removeprefix("layers."): torch.from_numpy(v.numpy().copy())
                         for k, v in model.state_dict().items()})
    return ref


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per library")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: each library's own choice)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--limit", type=int, default=None, help="use only N training images")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one neuralab epoch instead")
    args = parser.parse_args(argv)
    set_threads(args.threads)  # before NumPy is imported

    import torch

    import neuralab as nl
    from neuralab import models, optim
    from neuralab.data import DataLoader, Subset
    from neuralab.data.datasets import MNIST

    nl.manual_seed(0)
    data = MNIST(args.data_root, train=True, download=False)
    if args.limit:
        data = Subset(data, range(args.limit))
    note = " (SHIPPED SUBSET: full MNIST not found)" if getattr(data, "is_subset", False) else ""
    print(f"MNIST training images: {len(data)}{note}")
    print(machine_info())

    model = models.create("mlp")
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(data, batch_size=64, shuffle=True, seed=0)

    epoch_neuralab = neuralab_epoch(model, opt, loader)

    ref = torch_mlp(model)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    torch_epoch = torch_mnist_epoch(ref, ref_opt, data)

    if args.profile:
        import cProfile
        import pstats

        epoch_neuralab()
        cProfile.runctx("epoch_neuralab()", globals(), locals(), "/tmp/bench_mlp.prof")
        pstats.Stats("/tmp/bench_mlp.prof").sort_stats("tottime").print_stats(20)
        return 0

    # Alternate the libraries so that both see the same machine load.
    t_nl, t_pt = [], []
    for _ in range(args.warmup):
        epoch_neuralab()
        torch_epoch()
    for _ in range(args.repeats):
        t_nl += measure(epoch_neuralab, repeats=1, warmup=0)
        t_pt += measure(torch_epoch, repeats=1, warmup=0)
    print(summary("neuralab", t_nl))
    print(summary("pytorch ", t_pt))
    ratio = statistics.median(t_nl) / statistics.median(t_pt)
    print(f"ratio neuralab / pytorch (medians): {ratio:.2f}  (target <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
