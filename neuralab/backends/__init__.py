"""``neuralab.backends``: PyTorch's backend switches, answered for a CPU-only library.

``backends.mps.is_available()`` is False; ``backends.cudnn.benchmark = True`` and
``backends.cudnn.deterministic = True`` are accepted and have no effect (there is no cuDNN).
"""

from neuralab.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
