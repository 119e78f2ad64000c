"""Regenerate ``neuralab/data/shipped/mnist_subset.npz`` from the real MNIST files.

The subset is class-balanced and deterministic: for each digit, the first 500 training images
(and 100 test images) of that digit in file order, the chosen indices then sorted so the subset
keeps MNIST's original order. Stored compressed with ``np.savez_compressed`` (no pickle).

Usage:
    python scripts/make_shipped_mnist.py --root /path/to/mnist [--train-per-class 500]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from neuralab.data.datasets.mnist import MNIST

OUT = Path(__file__).resolve().parents[1] / "neuralab" / "data" / "shipped" / "mnist_subset.npz"


def balanced_indices(labels: np.ndarray, per_class: int) -> np.ndarray:
    """The first ``per_class`` positions of each class, in file order."""
    chosen = [np.flatnonzero(labels == c)[:per_class] for c in range(10)]
    if any(len(c) < per_class for c in chosen):
        raise SystemExit(f"not enough images for {per_class} per class")
    return np.sort(np.concatenate(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("NEURALAB_DATA"),
                        help="folder with the four MNIST IDX files")
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    arrays = {}
    for split, train, per_class in (("train", True, args.train_per_class),
                                    ("test", False, args.test_per_class)):
        ds = MNIST(args.root, train=train, download=False, subset=False)
        idx = balanced_indices(ds.targets, per_class)
        arrays[f"{split}_images"] = ds.data[idx].astype(np.uint8)
        arrays[f"{split}_labels"] = ds.targets[idx].astype(np.uint8)
        arrays[f"{split}_indices"] = idx.astype(np.int32)  # positions in the original files
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): "
          + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


if __name__ == "__main__":
    main()
