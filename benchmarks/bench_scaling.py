"""neuralab alone with one thread and with N fixed threads, alternating: wall and CPU time a step.

How much a second thread gains (or costs) in neuralab's training steps, and how much CPU it
burns doing so (a spinning thread shows as CPU time far above the wall time's worth of work):
LeNet-5 (batch 64, SGD momentum, 30 steps per timing), the LSTM step of bench_defaults.py
(T=100, N=32, I=128, H=256, forward + backward) or ResNet-20 (batch 128, one step). The
threads are fixed (``nl.set_num_threads``), whatever the load. To compare two versions of the
library, run it with PYTHONPATH pointing at each tree in turn.

    PYTHONPATH=. python benchmarks/bench_scaling.py --model lenet [--threads 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable


def workload(name: str) -> tuple[Callable[[], None], int]:
    """(a function running ``steps`` training steps, steps)."""
    import numpy as np

    import neuralab as nl
    from neuralab import models, nn, optim
    from neuralab.nn import functional as F

    nl.manual_seed(0)
    rng = np.random.default_rng(0)
    if name == "lstm":
        lstm = nn.LSTM(128, 256)
        x = nl.tensor(rng.standard_normal((100, 32, 128)).astype(np.float32),
                      requires_grad=True)
        v = nl.tensor(rng.standard_normal((100, 32, 256)).astype(np.float32))

        def lstm_step() -> None:
            lstm.zero_grad()
            x.grad = None
            out, _ = lstm(x)
            (out * v).sum().backward()

        return lstm_step, 1
    model = models.create("lenet5" if name == "lenet" else "resnet20").train()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    shape, steps = ((64, 1, 28, 28), 30) if name == "lenet" else ((128, 3, 32, 32), 1)
    x = nl.tensor(rng.standard_normal(shape).astype(np.float32))
    y = nl.tensor(rng.integers(0, 10, shape[0]))

    def train_steps() -> None:
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

    return train_steps, steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("lenet", "lstm", "resnet"), default="lenet")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import neuralab as nl

    run, steps = workload(args.model)
    counts = (1, args.threads)
    wall: dict[int, list[float]] = {n: [] for n in counts}
    cpu: dict[int, list[float]] = {n: [] for n in counts}
    for n in counts:  # warm-up
        nl.set_num_threads(n)
        run()
    for _ in range(args.repeats):
        for n in counts:
            nl.set_num_threads(n)
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[n].append((time.perf_counter() - start) / steps)
            cpu[n].append((time.process_time() - start_cpu) / steps)
    print(f"{args.model}, neuralab from {nl.__file__}")
    for n in counts:
        print(f"  {n} thread(s): step {statistics.median(wall[n]) * 1e3:.2f} ms (min "
              f"{min(wall[n]) * 1e3:.2f}), CPU {statistics.median(cpu[n]) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
