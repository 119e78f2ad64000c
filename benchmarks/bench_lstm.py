"""LSTM forward + backward: neuralab against PyTorch (CPU), in the same process.

One layer, sequence length 100, batch 32, input 128, hidden 256, float32 — the size of a
character-level language model. Both libraries get the same weights and the same input; each
repeat times one forward and one backward pass (loss = sum of the outputs projected on a fixed
random tensor). Prints the medians and the ratio neuralab / PyTorch (target: <= 2.0).

    python benchmarks/bench_lstm.py [--repeats 20] [--threads N]

Run it as a script (not after importing NumPy elsewhere): ``--threads`` sets the BLAS thread
count through environment variables that NumPy reads when it is first imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402


def paired_steps(T: int, N: int, I: int, H: int):  # noqa: E741 (the LSTM's input size)
    """One LSTM layer in both libraries from the same weights, the same (T, N, I) input, and a
    forward + backward step of each (loss: the outputs projected on a fixed random tensor).

    Returns:
        (neuralab LSTM, torch LSTM, neuralab_step, torch_step).
    """
    import numpy as np
    import torch

    import neuralab as nl
    import neuralab.nn as nn

    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    v = rng.standard_normal((T, N, H)).astype(np.float32)
    nl.manual_seed(0)
    ours = nn.LSTM(I, H)
    theirs = torch.nn.LSTM(I, H)
    theirs.load_state_dict({k: torch.tensor(a) for k, a in ours.state_dict().items()})
    ox, ov = nl.tensor(x, requires_grad=True), nl.tensor(v)
    tx, tv = torch.tensor(x, requires_grad=True), torch.tensor(v)

    def step_ours() -> None:
        ours.zero_grad()
        ox.grad = None
        out, _ = ours(ox)
        (out * ov).sum().backward()

    def step_theirs() -> None:
        theirs.zero_grad()
        tx.grad = None
        out, _ = theirs(tx)
        (out * tv).sum().backward()

    return ours, theirs, step_ours, step_theirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seq", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads for both libraries (default: each one's "
                             "own choice); 1 gives stable numbers on a busy machine")
    args = parser.parse_args(argv)
    if args.threads:
        # Must be set before NumPy loads OpenBLAS/MKL.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    T, N, I, H = args.seq, args.batch, args.input, args.hidden
    ours, theirs, step_ours, step_theirs = paired_steps(T, N, I, H)

    def timed(fn) -> list[float]:
        for _ in range(args.warmup):
            fn()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return times

    # Interleave the libraries so that a change in machine load hits both alike.
    t_ours, t_theirs = [], []
    for _ in range(2):
        t_theirs += timed(step_theirs)
        t_ours += timed(step_ours)
    # Same result, so that the timing compares equal work.
    step_ours()
    step_theirs()
    worst = max(float(np.abs(p.grad.numpy() - dict(theirs.named_parameters())[n].grad.numpy())
                      .max()) for n, p in ours.named_parameters())

    m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
    print(f"LSTM forward+backward, T={T} N={N} I={I} H={H}, 1 layer, float32, "
          f"{len(t_ours)} repeats each")
    print(machine_info())
    print(f"  pytorch  median {m_theirs * 1e3:8.2f} ms  (min {min(t_theirs) * 1e3:.2f})")
    print(f"  neuralab median {m_ours * 1e3:8.2f} ms  (min {min(t_ours) * 1e3:.2f})")
    print(f"  ratio neuralab / pytorch = {m_ours / m_theirs:.2f}  (target <= 2.0)")
    print(f"  max |grad difference| over the weights: {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
