"""Memory of one ResNet-20 training step: minor page faults per step and peak RSS, neuralab
against PyTorch (CPU), each library in a fresh process of its own.

ResNet-20 (the CIFAR model of ``models.create("resnet20")``; PyTorch: the same network from
bench_resnet.py), batch 128 of 3x32x32 float32, cross-entropy, SGD (lr 0.1, momentum 0.9,
weight decay 1e-4), training mode. Each library runs in its own subprocess because peak RSS is
per process. The child builds the model, runs ``--warmup`` steps, then counts

* minor page faults per step (``getrusage`` ru_minflt before and after each of ``--steps``
  steps): every fresh 4 KiB page the kernel has to map costs a fault, which is what a step pays
  when freed arrays go back to the system and are mapped again;
* peak RSS: ``ru_maxrss`` of the whole process (interpreter, library imports, model, data and
  the steps), and, where Linux allows resetting the high-water mark (``/proc/self/clear_refs``),
  the peak of the measured steps alone above the RSS before them ("step peak - base").

PyTorch's child never imports neuralab and neuralab's never imports PyTorch, so each process
pays only for its own library, and neuralab's malloc settings (``neuralab.kernels.allocator``,
which ``import neuralab`` applies to the whole process) never reach PyTorch's figures; in
bench_resnet.py, where both run in one process, they do. ``NEURALAB_MALLOC=system`` measures
neuralab with malloc untuned. Prints both libraries and the ratios neuralab / PyTorch.

    python benchmarks/bench_memory.py [--steps 20] [--warmup 5] [--batch 128] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _status_kib(field: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status in KiB (None where there is none)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's RSS high-water mark (Linux 4.0+); whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _child(library: str, batch: int, warmup: int, steps: int) -> dict:
    """Build, warm up and measure one library's step in this process; returns the figures."""
    import numpy as np

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y_np = rng.integers(0, 10, batch)
    if library == "neuralab":
        import neuralab as nl
        from neuralab import models, optim
        from neuralab.kernels.allocator import malloc_settings
        from neuralab.nn import functional as F

        nl.manual_seed(0)
        model = models.create("resnet20").train()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        x, y = nl.Tensor(x_np), nl.tensor(y_np)
        malloc = malloc_settings()

        def step() -> None:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    else:
        import torch
        from bench_resnet import torch_resnet20

        torch.manual_seed(0)
        model = torch_resnet20().train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
        malloc = None

        def step() -> None:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

    base_rss = _status_kib("VmRSS")
    for _ in range(warmup):
        step()
    steady_rss = _status_kib("VmRSS")
    reset = _reset_peak()
    faults = []
    for _ in range(steps):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        step()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return {
        "faults": faults,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # KiB on Linux
        "base_rss_kib": base_rss,  # model and batch built, before the first step
        "steady_rss_kib": steady_rss,  # after the warm-up steps
        "step_peak_kib": _status_kib("VmHWM") if reset else None,  # peak of the measured steps
        "malloc": malloc,  # neuralab's glibc malloc thresholds (neuralab.kernels.allocator)
    }


def _run_child(library: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    if args.threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NEURALAB_NUM_THREADS"):
            env[var] = str(args.threads)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", library,
               "--batch", str(args.batch), "--warmup", str(args.warmup),
               "--steps", str(args.steps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench_memory: the {library} process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="measured steps per library")
    parser.add_argument("--warmup", type=int, default=5,
                        help="steps before measuring (malloc's heaps settle in a few)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both libraries (BLAS, torch, neuralab); 0: each "
                        "library's default")
    parser.add_argument("--child", choices=("neuralab", "pytorch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.batch, args.warmup, args.steps)))
        return 0
    if args.threads == 0:
        args.threads = None
    from _common import machine_info, set_threads

    set_threads(args.threads)  # before NumPy is imported; the children inherit the settings
    import numpy as np

    print(machine_info())
    print(f"ResNet-20 training step, batch {args.batch}x3x32x32, SGD momentum, cross-entropy; "
          f"threads {args.threads or 'default'}, {args.warmup} warm-up + {args.steps} measured "
          "steps, each library in its own process")
    results = {lib: _run_child(lib, args) for lib in ("neuralab", "pytorch")}
    for lib, r in results.items():
        faults = r["faults"]
        step_peak = r["step_peak_kib"]
        above = "n/a" if step_peak is None else _mib(step_peak - r["steady_rss_kib"])
        print(f"{lib:9s} minor faults/step: mean {np.mean(faults):.0f} (median "
              f"{np.median(faults):.0f}, min {min(faults)}, max {max(faults)}); "
              f"peak RSS {_mib(r['maxrss_kib'])} (before the first step "
              f"{_mib(r['base_rss_kib'])}, steady {_mib(r['steady_rss_kib'])}, step peak "
              f"{_mib(step_peak)}, step peak - steady {above})")
    print(f"neuralab's malloc thresholds: {results['neuralab']['malloc'] or 'system (untuned)'}")
    nl, pt = results["neuralab"], results["pytorch"]
    ratio_faults = np.mean(nl["faults"]) / max(1.0, np.mean(pt["faults"]))
    print(f"ratio neuralab / pytorch: mean faults/step {ratio_faults:.2f}, peak RSS "
          f"{nl['maxrss_kib'] / pt['maxrss_kib']:.2f}", end="")
    if nl["step_peak_kib"] is not None and pt["step_peak_kib"] is not None:
        growth_nl = nl["step_peak_kib"] - nl["base_rss_kib"]
        growth_pt = pt["step_peak_kib"] - pt["base_rss_kib"]
        print(f", step peak above the RSS before training {growth_nl / 1024:.0f} / "
              f"{growth_pt / 1024:.0f} MiB = {growth_nl / max(1, growth_pt):.2f}")
    else:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
