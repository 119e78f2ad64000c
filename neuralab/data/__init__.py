"""``neuralab.data``: datasets, the DataLoader, transforms and the real data sets of the course."""

from neuralab.data import datasets, download  # noqa: F401
from neuralab.data.dataloader import DataLoader, default_collate
from neuralab.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from neuralab.data.datasets import MNIST

__all__ = [
    "MNIST", "ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset",
    "datasets", "default_collate", "random_split",
]

# ---- modules owned by other helpers (the lead adds them here as they land) -----------------
# from neuralab.data import transforms
# __all__ += ["transforms"]
