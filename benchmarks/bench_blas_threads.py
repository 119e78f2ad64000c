"""Matrix products with one thread, OpenBLAS's two threads, and split in two by neuralab's pool.

The measurement behind neuralab's thread policy (neuralab/parallel.py): on a busy machine
OpenBLAS's threads, which busy-wait for each other, make a product many times slower, while one
thread does not collapse. Shapes: an MLP layer, the LSTM's recurrent product, ResNet-20 im2col
products. Prints the median and minimum of ``--repeats`` products per way, interleaved per shape.
Run it once on a quiet machine and once beside other work (``--busy 2`` starts two spinning
processes itself, stopped at the end); ``OPENBLAS_THREAD_TIMEOUT`` (read when NumPy loads)
can be set in the environment to see its effect.

    python benchmarks/bench_blas_threads.py [--repeats 40] [--busy 0]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_defaults import busy_processes  # noqa: E402

SHAPES = [(64, 784, 256), (64, 256, 256), (32, 256, 1024), (8192, 576, 64), (2048, 2048, 2048)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--busy", type=int, default=0, help="spinning background processes")
    args = parser.parse_args(argv)

    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from neuralab import parallel

    nl_pool = ThreadPoolExecutor(1)

    def split(a, b, out) -> None:
        half = a.shape[0] // 2
        future = nl_pool.submit(np.matmul, a[half:], b, out=out[half:])
        np.matmul(a[:half], b, out=out[:half])
        future.result()

    print(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
          f"load average {os.getloadavg()[0]:.2f}, busy processes {args.busy}, "
          f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')}")
    busy = busy_processes(args.busy) if args.busy else contextlib.nullcontext()
    with busy:
        for M, K, N in SHAPES:
            rng = np.random.default_rng(0)
            a = rng.standard_normal((M, K), dtype=np.float32)
            b = rng.standard_normal((K, N), dtype=np.float32)
            out = np.empty((M, N), dtype=np.float32)
            # name: (BLAS threads, split in two by the pool)
            ways = {"one thread": (1, False), "OpenBLAS 2 threads": (2, False),
                    "pool split, BLAS 1": (1, True)}
            repeats = max(3, args.repeats // 10) if M * K * N > 1e9 else args.repeats
            times: dict[str, list[float]] = {name: [] for name in ways}
            for _ in range(repeats):
                for name, (blas, in_pool) in ways.items():
                    parallel.set_blas_threads(blas)
                    start = time.perf_counter()
                    if in_pool:
                        split(a, b, out)
                    else:
                        np.matmul(a, b, out=out)
                    times[name].append(time.perf_counter() - start)
            line = "; ".join(f"{name} {statistics.median(t) * 1e3:.2f} ms (min "
                             f"{min(t) * 1e3:.2f})" for name, t in times.items())
            print(f"{M}x{K}x{N} ({2 * M * K * N / 1e6:.0f} MFLOP): {line}", flush=True)
    parallel.set_blas_threads(parallel.threads_in_use())
    return 0


if __name__ == "__main__":
    sys.exit(main())
