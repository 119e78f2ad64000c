"""One ResNet-20 training step on CIFAR-sized input: neuralab against PyTorch (CPU), same process.

ResNet-20 (He et al., 2016, option-A shortcuts, 0.27M parameters), batch 128 of 3x32x32 float32,
cross-entropy, SGD (lr 0.1, momentum 0.9, weight decay 1e-4), training mode (batch-norm batch
statistics). Both libraries start from the same weights (copied with ``neuralab.interop``) and
step on the same batch. Each repeat times forward + backward + optimizer step; the libraries
alternate so that both see the same machine load. Prints the medians and the ratio
neuralab / PyTorch (target <= 1.5), with the NumPy/BLAS and CPU details.

    python benchmarks/bench_resnet.py [--repeats 10] [--batch 128] [--threads N] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, measure, page_faults, set_threads, summary  # noqa: E402


def torch_resnet20():
    """He et al.'s CIFAR ResNet-20 in PyTorch, with neuralab's (torchvision-style) names."""
    import torch
    import torch.nn as tnn
    import torch.nn.functional as TF

    class ShortcutA(tnn.Module):
        def __init__(self, pad):
            super().__init__()
            self.pad = pad

        def forward(self, x):
            return TF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            out = TF.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return TF.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(tnn.Module):
        def __init__(self, n=3):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(16)
            layers, inplanes = [], 16
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                down = ShortcutA((planes - inplanes) // 2) if stride != 1 else None
                blocks = [Block(inplanes, planes, stride, down)]
                blocks += [Block(planes, planes) for _ in range(n - 1)]
                layers.append(tnn.Sequential(*blocks))
                inplanes = planes
            self.layer1, self.layer2, self.layer3 = layers
            self.fc = tnn.Linear(64, 10)

        def forward(self, x):
            x = TF.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(TF.adaptive_avg_pool2d(x, 1), 1))

    return Net()


def paired_steps(batch: int):
    """ResNet-20 in both libraries from the same weights, one random CIFAR-sized batch, and a
    training step of each (SGD lr 0.1, momentum 0.9, weight decay 1e-4, cross-entropy).

    Returns:
        (neuralab model, neuralab batch, neuralab_step, torch_step).
    """
    import numpy as np
    import torch

    import neuralab as nl
    from neuralab import models, optim
    from neuralab.interop import to_torch_state_dict
    from neuralab.nn import functional as F

    nl.manual_seed(0)
    model = models.create("resnet20").train()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y_np = rng.integers(0, 10, batch)
    x, y = nl.Tensor(x_np), nl.tensor(y_np)

    ref = torch_resnet20().train()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(model).items()})
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_np), torch.from_numpy(y_np)

    def neuralab_step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def torch_step() -> None:
        ref_opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(xt), yt).backward()
        ref_opt.step()

    return model, x, neuralab_step, torch_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per library")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: each library's own choice)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of neuralab steps instead")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time, or the process's CPU time (steadier on a busy "
                        "machine; meaningful with --threads 1)")
    args = parser.parse_args(argv)
    set_threads(args.threads)  # before NumPy is imported

    print(machine_info())
    _, _, neuralab_step, torch_step = paired_steps(args.batch)

    if args.profile:
        import cProfile
        import pstats

        neuralab_step()
        cProfile.runctx("for _ in range(3): neuralab_step()", globals(), locals(),
                        "/tmp/bench_resnet.prof")
        pstats.Stats("/tmp/bench_resnet.prof").sort_stats("tottime").print_stats(25)
        return 0

    for _ in range(args.warmup):
        neuralab_step()
        torch_step()
    import time

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    t_nl, t_pt = [], []
    faults = {"neuralab": 0, "pytorch": 0}
    for _ in range(args.repeats):
        before = page_faults()
        t_nl += measure(neuralab_step, repeats=1, warmup=0, clock=clock)
        middle = page_faults()
        t_pt += measure(torch_step, repeats=1, warmup=0, clock=clock)
        faults["neuralab"] += middle - before
        faults["pytorch"] += page_faults() - middle
    print(f"ResNet-20 training step, batch {args.batch}x3x32x32, SGD momentum, cross-entropy")
    print(summary("neuralab", t_nl))
    print(summary("pytorch ", t_pt))
    ratio = statistics.median(t_nl) / statistics.median(t_pt)
    print(f"ratio neuralab / pytorch (medians): {ratio:.2f}  (target <= 1.5)")
    # Fresh memory costs the kernel a page fault per 4 KiB page (system time, counted by the
    # cpu clock): glibc returns freed large arrays to the system and maps them again.
    per_step = {name: count / args.repeats for name, count in faults.items()}
    print(f"clock: {args.clock}; minor page faults per step: neuralab "
          f"{per_step['neuralab']:.0f}, pytorch {per_step['pytorch']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
