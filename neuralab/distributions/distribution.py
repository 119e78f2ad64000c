"""The base class of every distribution (``torch.distributions.Distribution``).

Shapes: a draw of ``sample(sample_shape)`` has shape sample_shape + batch_shape + event_shape;
``log_prob(value)`` reduces the event dimensions and so has value's shape less event_shape.
``rsample`` is the reparameterised draw x = g(θ, ε), ε drawn independently of θ, so that
∂x/∂θ flows back to the parameters (the pathwise estimator of ∇θ E[f(x)]); ``sample`` is the
same draw with no gradient.

Validation (on by default, as in PyTorch; ``Distribution.set_default_validate_args(False)``
turns it off) checks each parameter against ``arg_constraints`` when the distribution is built
and each value given to ``log_prob`` against ``support``, raising ValueError with PyTorch's
messages.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Size, Tensor
from neuralab.distributions import constraints
from neuralab.distributions.utils import lazy_property
from neuralab.ops import exp

__all__ = ["Distribution"]

#: The default sample_shape: one draw per batch element.
EMPTY_SIZE = Size()


def as_size(shape: Any, name: str = "sample_shape") -> Size:
    """A shape argument (a Size, tuple, list or int) as a Size."""
    if isinstance(shape, (int,)) and not isinstance(shape, bool):
        return Size((shape,))
    if isinstance(shape, (tuple, list)) and all(isinstance(d, int) and not isinstance(d, bool)
                                                 and d >= 0 for d in shape):
        return Size(tuple(shape))
    raise TypeError(f"{name} must be a tuple of non-negative integers (a Size), got {shape!r}")


class Distribution:
    """A probability distribution with batch_shape and event_shape (see the module's doc)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for distributions built without validate_args."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = EMPTY_SIZE, event_shape: Any = EMPTY_SIZE,
                 validate_args: bool | None = None):
        self._batch_shape = as_size(batch_shape, "batch_shape")
        self._event_shape = as_size(event_shape, "event_shape")
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            arg_constraints = self.arg_constraints
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue  # skip constraints that cannot be checked
                if param not in self.__dict__ and \
                        isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # skip checking lazily-constructed args
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} "
                        f"({type(value).__name__} of shape {tuple(value.shape)}) "
                        f"of distribution {self!r} "
                        f"to satisfy the constraint {constraint!r}, "
                        f"but found invalid values:\n{value}")

    # ------------------------------------------------------------------ shapes and expansion
    @property
    def batch_shape(self) -> Size:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of a single sample (without batching)."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = EMPTY_SIZE) -> Size:
        return Size(tuple(as_size(sample_shape)) + tuple(self._batch_shape)
                    + tuple(self._event_shape))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """A new distribution with its batch dimensions expanded to ``batch_shape`` (the
        parameters are broadcast, not copied)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement expand")

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    # ------------------------------------------------------------------ the interface
    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """The constraint each parameter must satisfy."""
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The constraint a sample satisfies."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation, √variance."""
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """A reparameterised draw: its gradient reaches the parameters."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample "
                                  "(has_rsample is False)")

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))`` (deprecated in PyTorch)."""
        return self.sample(Size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return exp(self.entropy())

    # ------------------------------------------------------------------ validation
    def _validate_sample(self, value: Any) -> None:
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.dim() - len(self._event_shape)
        actual_shape = Size(tuple(value.shape))
        if actual_shape[event_dim_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{actual_shape} vs {self._event_shape}.")
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual_shape} vs {Size(expected_shape)}.")
        try:
            support = self.support
        except NotImplementedError:
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                "Expected value argument "
                f"({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) "
                f"of the distribution {self!r}, "
                f"but found invalid values:\n{value}")

    def __repr__(self) -> str:
        param_names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
            for p in param_names)
        return f"{self.__class__.__name__}({args})"

