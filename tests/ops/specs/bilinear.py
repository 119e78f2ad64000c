"""Specs of ``bilinear`` (y = x₁ᵀ A x₂ + b) against ``torch.nn.functional.bilinear``: with and
without bias, batched (2-D and 3-D leading dimensions) and single vectors."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec

SPECS = [
    OpSpec("bilinear", nl.bilinear, TF.bilinear,
           [((3, 2), (3, 4), (5, 2, 4), (5,)), ((2, 3, 3), (2, 3, 2), (2, 3, 2), (2,))]),
    OpSpec("bilinear", nl.bilinear, TF.bilinear,
           [((4, 3), (4, 2), (3, 3, 2)), ((3,), (2,), (4, 3, 2))]),
]
