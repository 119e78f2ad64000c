"""``neuralab.utils``: PyTorch's ``torch.utils`` names over neuralab's own modules.

``neuralab.utils.data`` is ``torch.utils.data`` (datasets, samplers, the DataLoader), and
``make_grid`` / ``save_image`` are torchvision's image-grid helpers. Nothing here is implemented
twice: the classes live in ``neuralab.data`` and are re-exported.
"""

from neuralab.utils import data
from neuralab.utils.image import make_grid, save_image

__all__ = ["data", "make_grid", "save_image"]
