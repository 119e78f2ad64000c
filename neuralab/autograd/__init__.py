"""The autograd engine: Tensor, Function + Context, the backward engine, no_grad, gradcheck."""

from neuralab.autograd import custom_function as custom_function  # noqa: PLC0414  (installs it)
from neuralab.autograd import function as function  # noqa: PLC0414  (torch.autograd.function)
from neuralab.autograd import views
from neuralab.autograd.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from neuralab.autograd.function import Context, Function, unbroadcast
from neuralab.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from neuralab.autograd.grad_mode import is_enabled as is_grad_enabled
from neuralab.autograd.gradcheck import (
    GradcheckError,
    central_differences,
    gradcheck,
    relative_error,
)
from neuralab.autograd.gradients import grad
from neuralab.autograd.tensor import RemovableHandle, Tensor

views.install()

__all__ = [
    "Context", "Function", "GradcheckError", "RemovableHandle", "Tensor", "central_differences",
    "enable_grad", "grad", "gradcheck", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "no_grad", "relative_error", "set_grad_enabled", "unbroadcast",
    "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly",
]
