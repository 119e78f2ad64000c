"""``neuralab.backends.cudnn``: settings PyTorch programs write; without cuDNN they do nothing.

``benchmark``, ``deterministic`` and ``enabled`` are plain module attributes a program may set.
"""

benchmark = False
deterministic = False
enabled = False


def is_available() -> bool:
    """False: there is no cuDNN."""
    return False
