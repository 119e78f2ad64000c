"""torchvision.utils' ``make_grid`` and ``save_image``, re-exported from ``neuralab.utils``."""

from neuralab.utils.image import make_grid, save_image

__all__ = ["make_grid", "save_image"]
