"""``neuralab.backends.mps``: Apple's GPU backend is not available to neuralab."""


def is_available() -> bool:
    """False: neuralab computes on the CPU."""
    return False


def is_built() -> bool:
    """False: neuralab has no MPS support built in."""
    return False
