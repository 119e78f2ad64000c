"""torchvision.datasets' names: ``MNIST``, ``CIFAR10``, ``CIFAR100``, ``ImageFolder`` (and
neuralab's ``Caltech101``), re-exported from ``neuralab.data.datasets``.

Each takes ``transform=`` and ``target_transform=`` and hands the transform the raw image, a
uint8 (H, W) grey or (H, W, 3) array where torchvision hands a PIL image.
"""

from neuralab.data.datasets import CIFAR10, CIFAR100, MNIST, Caltech101, ImageFolder

__all__ = ["CIFAR10", "CIFAR100", "MNIST", "Caltech101", "ImageFolder"]
