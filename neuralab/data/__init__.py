"""``neuralab.data``: datasets, the DataLoader, transforms and the real data sets of the course."""

from neuralab.data import datasets, download, transforms  # noqa: F401
from neuralab.data.arrays import ArrayLoader, dataset_arrays
from neuralab.data.dataloader import DataLoader, default_collate, default_convert
from neuralab.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from neuralab.data.datasets import CIFAR10, CIFAR100, MNIST, Caltech101, ImageFolder
from neuralab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from neuralab.data.sequence import BPTTLoader

__all__ = [
    "ArrayLoader", "BPTTLoader", "CIFAR10", "CIFAR100", "BatchSampler", "Caltech101",
    "ConcatDataset", "DataLoader", "Dataset", "ImageFolder", "IterableDataset", "MNIST",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "TensorDataset", "WeightedRandomSampler", "dataset_arrays", "datasets", "default_collate",
    "default_convert", "random_split", "transforms",
]
