"""``torch.utils.data`` for neuralab: ``from neuralab.utils.data import DataLoader, Dataset``.

The same objects as ``neuralab.data`` (re-exported, not copied): datasets, samplers, the
DataLoader and the collate functions.
"""

from neuralab.data.dataloader import (
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)
from neuralab.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from neuralab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
    "random_split",
]
