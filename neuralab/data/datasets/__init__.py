"""Loaders for the course's real data sets: MNIST, CIFAR-10/100, image folders, Caltech101, text."""

from neuralab.data.datasets.mnist import MNIST

__all__ = ["MNIST"]

# ---- other data sets (added by the lead as their modules land) -----------------------------
# from neuralab.data.datasets.cifar import CIFAR10, CIFAR100
# from neuralab.data.datasets.imagefolder import ImageFolder
# from neuralab.data.datasets.caltech101 import Caltech101
