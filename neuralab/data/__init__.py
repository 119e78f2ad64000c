"""``neuralab.data``: datasets, the DataLoader, transforms and the real data sets of the course."""

from neuralab.data import datasets, download, transforms  # noqa: F401
from neuralab.data.dataloader import DataLoader, default_collate
from neuralab.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from neuralab.data.datasets import CIFAR10, CIFAR100, MNIST, Caltech101, ImageFolder

__all__ = [
    "CIFAR10", "CIFAR100", "Caltech101", "ConcatDataset", "DataLoader", "Dataset", "ImageFolder",
    "MNIST", "Subset", "TensorDataset", "datasets", "default_collate", "random_split",
    "transforms",
]
