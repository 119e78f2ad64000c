"""Forward + backward of conv2d, max_pool2d and batch_norm: neuralab against PyTorch (CPU).

Shapes of LeNet-5 on MNIST (batch 64), of a CIFAR ResNet (batch 128, 16 channels, 32x32,
3x3 kernels) and of GoogLeNet's Inception modules (an overlapping 3x3 pool, a 1x1 reduction).
Each case times one forward and one backward with a fixed random output gradient,
alternating the libraries so that both see the same machine load, and prints the medians (and
minima, less sensitive to a busy machine) and the ratios neuralab / PyTorch. Target for the
128x16x32x32 3x3 convolution: ratio <= 1.5.

With ``--gemm``, each convolution is also set against NumPy's own matrix products of its im2col
shapes, timed in the same rotation: X_col (N·H'·W', C·k²) @ W (C·k², O) for the output,
X_colᵀ @ Ȳ for W̄ and, when the input needs a gradient, Ȳ @ Wᵀ for X̄_col. An im2col
convolution cannot run faster than these three products (the im2col copies and the col2im sums
come on top); a ratio "pytorch / products" below 1 means PyTorch's convolution multiplies faster
than NumPy's BLAS does on these shapes.

    python benchmarks/bench_conv.py [--repeats 20] [--threads N] [--only conv] [--clock cpu]
        [--gemm]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, set_threads  # noqa: E402

# name, kind, input shape, arguments; input_grad=False mirrors a network's first layer.
CASES = [
    ("lenet conv1 64x1x28x28 5x5 1->6 p2", "conv", (64, 1, 28, 28),
     dict(out=6, k=5, stride=1, padding=2, input_grad=False)),
    ("lenet conv2 64x6x14x14 5x5 6->16", "conv", (64, 6, 14, 14),
     dict(out=16, k=5, stride=1, padding=0, input_grad=True)),
    ("resnet 128x16x32x32 3x3 16->16 p1", "conv", (128, 16, 32, 32),
     dict(out=16, k=3, stride=1, padding=1, input_grad=True)),
    ("resnet 128x16x32x32 3x3 16->32 s2 p1", "conv", (128, 16, 32, 32),
     dict(out=32, k=3, stride=2, padding=1, input_grad=True)),
    ("resnet 128x64x8x8 3x3 64->64 p1", "conv", (128, 64, 8, 8),
     dict(out=64, k=3, stride=1, padding=1, input_grad=True)),
    ("lenet max_pool2d 64x6x28x28 k2", "max_pool", (64, 6, 28, 28), dict(k=2, stride=2, padding=0)),
    ("max_pool2d 128x16x32x32 k2", "max_pool", (128, 16, 32, 32), dict(k=2, stride=2, padding=0)),
    ("max_pool2d 128x16x32x32 k3 s2 p1", "max_pool", (128, 16, 32, 32),
     dict(k=3, stride=2, padding=1)),
    # GoogLeNet's Inception modules (width 0.25, 16x16 images): the pool branch's overlapping
    # 3x3 stride-1 pool, and a 1x1 reduction.
    ("inception max_pool2d 128x64x16x16 k3 s1 p1", "max_pool", (128, 64, 16, 16),
     dict(k=3, stride=1, padding=1)),
    ("inception 1x1 128x96x16x16 96->32", "conv", (128, 96, 16, 16),
     dict(out=32, k=1, stride=1, padding=0, input_grad=True)),
    ("batch_norm train 128x16x32x32", "batch_norm", (128, 16, 32, 32), {}),
    ("batch_norm train 128x64x8x8", "batch_norm", (128, 64, 8, 8), {}),
]


def _products(shape, kw, rng):
    """NumPy's three products of an im2col convolution of ``shape`` with ``kw``, as one call."""
    import numpy as np

    n, c, h, w = shape
    rows = n * ((h + 2 * kw["padding"] - kw["k"]) // kw["stride"] + 1) * (
        (w + 2 * kw["padding"] - kw["k"]) // kw["stride"] + 1)
    cols = rng.standard_normal((rows, c * kw["k"] ** 2)).astype(np.float32)
    weight = rng.standard_normal((c * kw["k"] ** 2, kw["out"])).astype(np.float32)
    grad_out = rng.standard_normal((rows, kw["out"])).astype(np.float32)

    def products():
        cols @ weight
        cols.T @ grad_out
        if kw["input_grad"]:
            grad_out @ weight.T

    return products


def _build(kind, shape, kw, rng):
    """The neuralab and PyTorch calls of one case, on the same data: (f_nl, f_pt)."""
    import numpy as np
    import torch
    import torch.nn.functional as TF

    import neuralab as nl

    x = rng.standard_normal(shape).astype(np.float32)
    if kind == "conv":
        w = (rng.standard_normal((kw["out"], shape[1], kw["k"], kw["k"])) * 0.1).astype(
            np.float32)
        b = np.zeros(kw["out"], np.float32)
        grad_x = kw["input_grad"]
        xo, wo, bo = (nl.Tensor(x, requires_grad=grad_x), nl.Tensor(w, requires_grad=True),
                      nl.Tensor(b, requires_grad=True))
        xt, wt, bt = (torch.tensor(x, requires_grad=grad_x), torch.tensor(w,
                      requires_grad=True), torch.tensor(b, requires_grad=True))
        f_nl = lambda: nl.conv2d(xo, wo, bo, kw["stride"], kw["padding"])  # noqa: E731
        f_pt = lambda: TF.conv2d(xt, wt, bt, kw["stride"], kw["padding"])  # noqa: E731
    elif kind == "max_pool":
        x = rng.permutation(x.size).reshape(shape).astype(np.float32)  # no ties
        xo, xt = nl.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        f_nl = lambda: nl.max_pool2d(xo, kw["k"], kw["stride"], kw["padding"])  # noqa: E731
        f_pt = lambda: TF.max_pool2d(xt, kw["k"], kw["stride"], kw["padding"])  # noqa: E731
    else:
        C = shape[1]
        xo, xt = nl.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        go, bo = nl.Tensor(np.ones(C, np.float32), requires_grad=True), nl.Tensor(
            np.zeros(C, np.float32), requires_grad=True)
        gt, bt = torch.ones(C, requires_grad=True), torch.zeros(C, requires_grad=True)
        rmo, rvo = nl.zeros(C), nl.ones(C)
        rmt, rvt = torch.zeros(C), torch.ones(C)
        f_nl = lambda: nl.batch_norm(xo, rmo, rvo, go, bo, training=True)  # noqa: E731
        f_pt = lambda: TF.batch_norm(xt, rmt, rvt, gt, bt, training=True)  # noqa: E731
    return f_nl, f_pt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time, or the process's CPU time (steadier on a busy "
                        "machine; meaningful with --threads 1)")
    parser.add_argument("--gemm", action="store_true", help="also time NumPy's matrix products "
                        "of each convolution's im2col shapes (the floor of an im2col conv)")
    args = parser.parse_args(argv)
    set_threads(args.threads)

    import numpy as np
    import torch

    import neuralab as nl

    print(machine_info())
    print(f"clock: {args.clock}")
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rng = np.random.default_rng(0)
    results = []
    for name, kind, shape, kw in CASES:
        if args.only and args.only not in name:
            continue
        f_nl, f_pt = _build(kind, shape, kw, rng)
        out_shape = f_pt().shape
        g = rng.standard_normal(tuple(out_shape)).astype(np.float32)
        g_nl, g_pt = nl.Tensor(g), torch.tensor(g)

        def run_nl(f_nl=f_nl, g_nl=g_nl):
            f_nl().backward(g_nl)

        def run_pt(f_pt=f_pt, g_pt=g_pt):
            f_pt().backward(g_pt)

        products = _products(shape, kw, rng) if args.gemm and kind == "conv" else None
        t_nl, t_pt, t_mm = [], [], []
        rotation = [(run_nl, t_nl), (run_pt, t_pt)] + ([(products, t_mm)] if products else [])
        for fn, _ in rotation * 2:  # warm-up
            fn()
        for _ in range(args.repeats):
            for fn, store in rotation:
                start = clock()
                fn()
                store.append(clock() - start)
        m_nl, m_pt = statistics.median(t_nl) * 1e3, statistics.median(t_pt) * 1e3
        b_nl, b_pt = min(t_nl) * 1e3, min(t_pt) * 1e3
        results.append((name, m_nl, m_pt))
        print(f"{name:38s} median: neuralab {m_nl:8.2f} ms  pytorch {m_pt:8.2f} ms  ratio "
              f"{m_nl / m_pt:5.2f} | min: {b_nl:8.2f} {b_pt:8.2f} ratio {b_nl / b_pt:5.2f}",
              flush=True)
        if t_mm:
            m_mm = statistics.median(t_mm) * 1e3
            print(f"{'':38s} numpy's im2col products {m_mm:8.2f} ms: neuralab / products "
                  f"{m_nl / m_mm:5.2f}, pytorch / products {m_pt / m_mm:5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
