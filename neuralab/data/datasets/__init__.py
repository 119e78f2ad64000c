"""Loaders for the course's real data sets: MNIST, CIFAR-10/100, image folders, Caltech101, text;
and two Gaussian classes with a known Bayes error."""

from neuralab.data.datasets.caltech101 import Caltech101
from neuralab.data.datasets.cifar import CIFAR10, CIFAR100
from neuralab.data.datasets.gaussian import TwoGaussians
from neuralab.data.datasets.imagefolder import ImageFolder
from neuralab.data.datasets.mnist import MNIST
from neuralab.data.datasets.text import CharCorpus, TextDataset, tinyshakespeare

__all__ = ["CIFAR10", "CIFAR100", "Caltech101", "CharCorpus", "ImageFolder", "MNIST",
           "TextDataset", "TwoGaussians", "tinyshakespeare"]
