"""An optimizer's path over a function of a few variables (Lecture 7's pictures of optimizers).

To see how gradient descent, momentum or Adam move, minimise a surface such as the Rosenbrock
function f(x, y) = (1 − x)² + 100(y − x²)² instead of a network's loss: the point p = (x, y)
is the one parameter of a ``Point`` module whose output is f(p), and ``Trainer`` minimises it
over a "data set" of one empty batch, exactly as it trains any network. Plotting the points
visited over f's contours shows the zig-zag of gradient descent across a narrow valley, the
velocity momentum builds along it, or how fast Adam leaves a saddle.

Example::

    points, values = trajectory(lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
                                (-1.5, 2.0), lambda params: SGD(params, lr=1e-3), steps=3000)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.nn import Module, Parameter
from neuralab.train.callbacks import DivergenceStop, LambdaCallback
from neuralab.train.loop import Trainer, TrainingDiverged

__all__ = ["Point", "trajectory"]


class Point(Module):
    """f(p) of the point p, the module's one parameter (float64); the batch is ignored.

    Args:
        f: a function of the coordinates, ``f(x, y, ...)``, written with operators that work
            on Tensors (``x * x``, ``**``) so that autograd differentiates it.
        start: the initial point.
    """

    def __init__(self, f: Callable[..., Any], start: Sequence[float]):
        super().__init__()
        if not callable(f):
            raise TypeError(f"Point: f must be a function of the coordinates, got "
                            f"{type(f).__name__}")
        self.f, self.p = f, Parameter(xp.array(start, dtype=xp.float64))
        if self.p.ndim != 1 or not len(start):
            raise ValueError(f"Point: start must be a sequence of coordinates, got {start!r}")

    def forward(self, batch: Any) -> Any:
        return self.f(*(self.p[i] for i in range(self.p.shape[0])))


def trajectory(f: Callable[..., Any], start: Sequence[float],
               optimizer: Callable[[list], Any], steps: int,
               threshold: float = 1e12) -> tuple[Any, list[float]]:
    """Minimise f from ``start`` with ``optimizer`` for ``steps`` steps through ``Trainer``.

    Args:
        f: a function of the coordinates (see ``Point``); it also receives arrays when called
            on the points visited.
        start: the initial point.
        optimizer: builds the optimizer from the parameter list (``lambda params: Adam(params,
            lr=0.05)``).
        steps: the number of updates.
        threshold: a diverging run stops after the step taken from the first point where f
            exceeds it, before f overflows (a run whose f does become infinite stops there).

    Returns:
        ``(points, values)``: the points visited, start included, as an array (steps + 1, D)
        (fewer rows when the run diverged), and f at each.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"trajectory: steps must be a positive integer, got {steps!r}")
    point = Point(f, start)
    points = [point.p.array.copy()]
    path = LambdaCallback(on_batch_end=lambda *_: points.append(point.p.array.copy()))
    stop = DivergenceStop(threshold=threshold)
    trainer = Trainer(point, optimizer([point.p]), loss_fn=lambda value, _: value,
                      progress=False, log=None, callbacks=[path, stop])
    try:
        trainer.fit([(Tensor([0.0]), Tensor([0.0]))] * steps, epochs=1)
    except TrainingDiverged:
        pass  # f became infinite: the path so far is the result
    return xp.array(points), [float(f(*p)) for p in points]
