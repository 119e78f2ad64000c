"""Layer responses: how strongly each layer of a trained network responds (He et al. 2016, Fig. 7).

He et al. measured the standard deviation of the responses of every 3x3 layer of their CIFAR-10
networks, "the outputs of each 3x3 layer, after BN and before other nonlinearity (ReLU/addition)".
A residual block's layers learn a correction F(x) to the identity, so they respond *less* than
a plain network's layers, which must carry the whole signal: the evidence that "the residual
functions might be generally closer to zeros than the non-residual functions", the premise of
residual learning. In the zoo's CIFAR networks every 3x3 convolution is followed by a
BatchNorm2d, so the responses are the BatchNorm2d outputs, in forward order.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.nn import BatchNorm2d

__all__ = ["response_stds"]


def response_stds(model: Any, x: Any, layer_type: type = BatchNorm2d,
                  batch_size: int = 250) -> list[float]:
    """The standard deviation of each ``layer_type`` layer's output over the images ``x``
    (every unit of every image), in the order the layers run, with the model in eval mode.

    std_l = √(E[r²] − E[r]²) over the responses r of layer l, accumulated in float64 batch by
    batch (``batch_size`` images at a time), so that any number of images fits in memory.

    Raises:
        ValueError: when the model has no ``layer_type`` layer, or ``x`` holds no image.
    """
    layers = [m for m in model.modules() if isinstance(m, layer_type)]
    if not layers:
        raise ValueError(f"response_stds: the model has no {layer_type.__name__} layer")
    images = x.array if isinstance(x, Tensor) else xp.asarray(x)
    if len(images) == 0:
        raise ValueError("response_stds: x holds no image")
    order: list[int] = []  # layer indices in the order they ran
    sums: dict[int, list[float]] = {}  # index -> [count, Σr, Σr²]

    def hook_for(index: int) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            r = output.array.astype(xp.float64)
            if index not in sums:
                order.append(index)
                sums[index] = [0.0, 0.0, 0.0]
            total = sums[index]
            total[0] += r.size
            total[1] += float(r.sum())
            total[2] += float((r * r).sum())
        return hook

    handles = [layer.register_forward_hook(hook_for(i)) for i, layer in enumerate(layers)]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for start in range(0, len(images), batch_size):
                model(Tensor(images[start:start + batch_size]))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    stds = []
    for index in order:
        n, s, s2 = sums[index]
        stds.append(float(max(s2 / n - (s / n) ** 2, 0.0) ** 0.5))
    return stds
