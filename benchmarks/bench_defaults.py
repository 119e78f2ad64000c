"""neuralab against PyTorch (CPU) with one thread, with each library's defaults, and on a busy
machine: MLP epoch, LeNet-5 epoch, ResNet-20 step, LSTM step, in one process.

Three settings, each with the two libraries interleaved (one repetition of neuralab, one of
PyTorch, and so on) so that both see the same machine, medians of ``--repeats``:

(a) ``one``: one thread each (``nl.set_num_threads(1)``, ``torch.set_num_threads(1)``);
(b) ``defaults``: each library's own choice (``nl.set_num_threads(None)``, PyTorch's initial
    ``torch.get_num_threads()``), nothing set by this script;
(c) ``busy``: the defaults while this script keeps two busy background processes running
    (started before and stopped after the setting, also on Ctrl-C or an error); neuralab with
    one thread is timed under the same load, so that the default can be compared with it
    (target: within 1.5x; the default must not collapse).

Before the settings it measures the machine's sgemm limit (NumPy float32 2048x2048 products
on every core) and reports the ResNet-20 step in setting (b) as a fraction of it (matrix-product
FLOPs of the step, counted from the model's layers).

    python benchmarks/bench_defaults.py --data-root ../shared/datasets/mnist [--repeats 5]
        [--only mlp,lenet,resnet,lstm] [--settings one,defaults,busy] [--mnist-limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info  # noqa: E402

BENCHMARKS = ("mlp", "lenet", "resnet", "lstm")
SETTINGS = ("one", "defaults", "busy")


# ----------------------------------------------------------------------------- busy machine
def _spin(parent: int, ready: Any) -> None:
    """A background process keeping one core busy with small NumPy operations until its parent
    stops it (or disappears)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # no idle BLAS threads of its own
    import numpy as np

    a = np.ones(1024, dtype=np.float32)
    ready.set()
    while os.getppid() == parent:
        for _ in range(2000):
            a *= np.float32(1.0000001)


@contextlib.contextmanager
def busy_processes(n: int, settle: float = 1.5) -> Iterator[list[Any]]:
    """``n`` processes spinning on the CPU for the duration of the block; always stopped."""
    context = multiprocessing.get_context("spawn")
    procs, events = [], []
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:  # a kill of this script runs the finally
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        for _ in range(n):
            ready = context.Event()
            proc = context.Process(target=_spin, args=(os.getpid(), ready), daemon=True)
            proc.start()
            procs.append(proc)
            events.append(ready)
        for ready in events:
            ready.wait(timeout=60)
        time.sleep(settle)  # a load to be seen: neuralab looks every 0.5 s
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=10)
        signal.signal(signal.SIGTERM, previous)


# ----------------------------------------------------------------------------- the machine
def sgemm_gflops(threads: int, n: int = 2048, repeats: int = 7) -> float:
    """Median GFLOP/s of NumPy float32 n x n x n products with ``threads`` BLAS threads."""
    import numpy as np

    from neuralab import parallel

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    parallel.set_blas_threads(threads)
    try:
        np.matmul(a, b, out=out)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            times.append(time.perf_counter() - start)
    finally:
        parallel.set_blas_threads(parallel.threads_in_use())  # neuralab's own setting back
    return 2 * n ** 3 / statistics.median(times) / 1e9


def matmul_flops(model: Any, x: Any) -> int:
    """FLOPs of the matrix products of one training step (forward + backward) of ``model`` on
    ``x``: per convolution 2·N·OH·OW·O·(C/g)·kh·kw for Z, the same for W̄ and, except for a
    layer fed by the input, for x̄; per linear layer likewise. Batch norm, ReLU, pooling and the
    optimizer are memory-bound passes, not counted."""
    from neuralab import nn

    total = [0]

    def count(module: Any, inputs: tuple, output: Any) -> None:
        x_in = inputs[0]
        if isinstance(module, nn.Conv2d):
            N, O, OH, OW = output.shape
            kh, kw = module.kernel_size
            fwd = 2 * N * OH * OW * O * (module.in_channels // module.groups) * kh * kw
        else:
            fwd = 2 * x_in.shape[0] * module.in_features * module.out_features
        total[0] += fwd * (3 if x_in.requires_grad or x_in._ctx is not None else 2)

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


# ----------------------------------------------------------------------------- the workloads
class Workload:
    """Two functions doing the same unit of work (an epoch, a step) in neuralab and PyTorch."""

    def __init__(self, name: str, unit: str, ours: Callable[[], None],
                 theirs: Callable[[], None], note: str = "") -> None:
        self.name, self.unit, self.ours, self.theirs, self.note = name, unit, ours, theirs, note


def mnist_data(root: str | None, limit: int | None) -> tuple[Any, str]:
    from neuralab.data import Subset
    from neuralab.data.datasets import MNIST

    data = MNIST(root, train=True, download=False)
    if limit:
        data = Subset(data, range(limit))
    subset = " (SHIPPED SUBSET: full MNIST not found)" if getattr(data, "is_subset", False) \
        else ""
    return data, f"{len(data)} MNIST images{subset}"


def mlp_workload(root: str | None, limit: int | None) -> Workload:
    import torch
    from _common import neuralab_epoch, torch_mnist_epoch
    from bench_mlp import torch_mlp

    from neuralab import models, optim
    from neuralab.data import DataLoader

    data, note = mnist_data(root, limit)
    model = models.create("mlp")
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    ref = torch_mlp(model)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(data, batch_size=64, shuffle=True, seed=0)
    return Workload("MLP 784-256-256-10 epoch", "s", neuralab_epoch(model, opt, loader),
                    torch_mnist_epoch(ref, ref_opt, data), note + ", batch 64, SGD momentum")


def lenet_workload(root: str | None, limit: int | None) -> Workload:
    import torch
    from _common import neuralab_epoch, torch_mnist_epoch
    from bench_lenet import torch_lenet5

    from neuralab import models, optim
    from neuralab.data import DataLoader

    data, note = mnist_data(root, limit)
    model = models.create("lenet5")
    ref = torch_lenet5()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in model.state_dict().items()})
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(data, batch_size=64, shuffle=True, seed=0)
    return Workload("LeNet-5 epoch", "s", neuralab_epoch(model, opt, loader),
                    torch_mnist_epoch(ref, ref_opt, data), note + ", batch 64, SGD momentum")


def resnet_workload(batch: int) -> tuple[Workload, int]:
    from bench_resnet import paired_steps

    model, x, ours, theirs = paired_steps(batch)
    flops = matmul_flops(model, x)  # with the graph recorded: which inputs need x̄
    return Workload("ResNet-20 step", "ms", ours, theirs,
                    f"batch {batch}x3x32x32, SGD momentum, {flops / 1e9:.1f} GFLOP of products"
                    ), flops


def lstm_workload() -> Workload:
    from bench_lstm import paired_steps

    T, N, I, H = 100, 32, 128, 256
    _, _, ours, theirs = paired_steps(T, N, I, H)
    return Workload("LSTM step", "ms", ours, theirs,
                    f"forward + backward, T={T} N={N} I={I} H={H}, one layer")


# ----------------------------------------------------------------------------- timing
def timed(fn: Callable[[], None]) -> float:
    """Seconds of ``fn()``, after a pause: the other library's idle threads may still spin (an
    OpenBLAS worker for ~0.1 s after its last product, OpenMP's briefly), and must not take
    cores from this run (measured: neuralab's LeNet-5 epoch with the BLAS's two threads made
    PyTorch's next epoch 0.52 s instead of 0.37)."""
    time.sleep(0.15)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_setting(work: Workload, setting: str, repeats: int, warmup: int,
                torch_default: int) -> dict[str, Any]:
    """Times of one workload in one setting: {'ours': [...], 'theirs': [...], ...}."""
    import torch

    import neuralab as nl
    from neuralab import parallel

    def ours_default() -> float:
        nl.set_num_threads(None)
        return timed(work.ours)

    def ours_one() -> float:
        nl.set_num_threads(1)
        try:
            return timed(work.ours)
        finally:
            nl.set_num_threads(None)

    if setting == "one":
        nl.set_num_threads(1)
        torch.set_num_threads(1)
        runs = {"ours": work.ours, "theirs": work.theirs}
    else:
        nl.set_num_threads(None)
        torch.set_num_threads(torch_default)
        runs = {"ours": work.ours, "theirs": work.theirs}
    result: dict[str, Any] = {key: [] for key in runs}
    threads_used = []
    try:
        for _ in range(warmup):
            for fn in runs.values():
                fn()
        for _ in range(repeats):
            if setting == "busy":
                result["ours"].append(ours_default())
                threads_used.append(parallel.threads_in_use())
                result["theirs"].append(timed(work.theirs))
                result.setdefault("ours_one", []).append(ours_one())
            else:
                for key, fn in runs.items():
                    result[key].append(timed(fn))
                threads_used.append(parallel.threads_in_use())
    finally:
        nl.set_num_threads(None)
        torch.set_num_threads(torch_default)
    result["threads"] = threads_used
    return result


def scale(unit: str) -> float:
    return 1e3 if unit == "ms" else 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed runs per library and setting")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--settings", default=",".join(SETTINGS),
                        help=f"comma-separated subset of {','.join(SETTINGS)}")
    parser.add_argument("--data-root", default=None, help="MNIST folder")
    parser.add_argument("--mnist-limit", type=int, default=None,
                        help="MLP and LeNet-5 epochs over only the first N training images")
    parser.add_argument("--batch", type=int, default=128, help="ResNet-20 batch")
    parser.add_argument("--busy", type=int, default=2, help="background processes in (c)")
    args = parser.parse_args(argv)
    only = [b for b in args.only.split(",") if b]
    settings = [s for s in args.settings.split(",") if s]
    bad = sorted(set(only) - set(BENCHMARKS)) + sorted(set(settings) - set(SETTINGS))
    if bad or args.repeats < 1:
        parser.error(f"unknown benchmark or setting {', '.join(bad)}" if bad
                     else "--repeats must be at least 1")

    import torch

    from neuralab import parallel

    torch_default = torch.get_num_threads()
    print(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), f"load average "
          f"{os.getloadavg()[0]:.2f}")
    print(machine_info())
    print(f"defaults: neuralab {parallel.describe_threads()}; pytorch {torch_default} threads")
    cores = len(os.sched_getaffinity(0))
    gemm_all, gemm_one = sgemm_gflops(cores), sgemm_gflops(1)
    print(f"sgemm limit (NumPy float32 2048^3): {gemm_all:.0f} GFLOP/s on {cores} cores, "
          f"{gemm_one:.0f} GFLOP/s on one")

    rows = []
    resnet_flops = 0
    for name in only:
        if name == "mlp":
            work = mlp_workload(args.data_root, args.mnist_limit)
        elif name == "lenet":
            work = lenet_workload(args.data_root, args.mnist_limit)
        elif name == "resnet":
            work, resnet_flops = resnet_workload(args.batch)
        else:
            work = lstm_workload()
        print(f"\n{work.name}: {work.note}", flush=True)
        for setting in settings:
            if setting == "busy":
                with busy_processes(args.busy):
                    result = run_setting(work, setting, args.repeats, args.warmup,
                                         torch_default)
            else:
                result = run_setting(work, setting, args.repeats, args.warmup, torch_default)
            k = scale(work.unit)
            ours, theirs = statistics.median(result["ours"]), statistics.median(result["theirs"])
            line = (f"  {setting:8s} neuralab {ours * k:8.3f} {work.unit} (min "
                    f"{min(result['ours']) * k:.3f}, threads {sorted(set(result['threads']))})"
                    f"  pytorch {theirs * k:8.3f} {work.unit} (min {min(result['theirs']) * k:.3f})"
                    f"  ratio {ours / theirs:.2f}")
            one = None
            if setting == "busy":
                one = statistics.median(result["ours_one"])
                line += (f"  | neuralab one thread {one * k:.3f} {work.unit}, default/one "
                         f"{ours / one:.2f}")
            print(line, flush=True)
            rows.append((work.name, setting, ours, theirs, one, work.unit))
            if name == "resnet" and setting == "defaults":
                achieved = resnet_flops / ours / 1e9
                print(f"  ResNet-20 step at {achieved:.0f} GFLOP/s = {achieved / gemm_all:.2f} "
                      f"of the sgemm limit ({gemm_all:.0f} GFLOP/s; the step would take "
                      f"{resnet_flops / gemm_all / 1e6:.0f} ms at it); pytorch "
                      f"{resnet_flops / theirs / 1e9 / gemm_all:.2f}")

    print("\n" + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load average "
          f"{os.getloadavg()[0]:.2f}")
    print("summary (ratio = neuralab / pytorch, medians; busy: also neuralab default / its "
          "one-thread time under the same load)")
    for name, setting, ours, theirs, one, _unit in rows:
        extra = f"  default/one {ours / one:.2f}" if one is not None else ""
        print(f"  {name:26s} {setting:8s} ratio {ours / theirs:.2f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
