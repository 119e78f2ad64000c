"""The autograd engine: Tensor, Function + Context, the backward engine, no_grad, gradcheck."""

from neuralab.autograd.function import Context, Function, unbroadcast
from neuralab.autograd.grad_mode import enable_grad, no_grad
from neuralab.autograd.grad_mode import is_enabled as is_grad_enabled
from neuralab.autograd.gradcheck import GradcheckError, central_differences, gradcheck
from neuralab.autograd.tensor import RemovableHandle, Tensor

__all__ = [
    "Context", "Function", "GradcheckError", "RemovableHandle", "Tensor", "central_differences",
    "enable_grad", "gradcheck", "is_grad_enabled", "no_grad", "unbroadcast",
]
