"""torchvision.transforms' names, re-exported from ``neuralab.data.transforms``."""

from neuralab.data.transforms import (
    CenterCrop,
    Compose,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    Resize,
    ToTensor,
)

__all__ = ["CenterCrop", "Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "Resize", "ToTensor"]
