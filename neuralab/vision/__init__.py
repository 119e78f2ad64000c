"""torchvision's names for neuralab's vision data: ``datasets``, ``transforms`` and ``utils``.

A PyTorch program's ``from torchvision import datasets, transforms`` becomes
``from neuralab.vision import datasets, transforms``; ``torchvision.utils.make_grid`` is
``neuralab.vision.utils.make_grid``. Everything is re-exported from ``neuralab.data`` and
``neuralab.utils``; see the README's "Coming from PyTorch" for what differs.
"""

from neuralab.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
