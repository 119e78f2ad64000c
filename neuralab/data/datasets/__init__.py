"""Loaders for the course's real data sets: MNIST, CIFAR-10/100, image folders, Caltech101, text."""
