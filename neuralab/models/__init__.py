"""The model zoo, built only from ``neuralab.nn``, with a registry: ``list_models``, ``create``.

Importing this package imports every model module so that each registers its builders.
"""

from neuralab.models import alexnet, googlenet, lenet, mlp, reduced, resnet, rnn, vgg  # noqa: F401
from neuralab.models.mlp import MLP
from neuralab.models.registry import create, get_entry, list_models, register

__all__ = ["MLP", "create", "get_entry", "list_models", "register"]
