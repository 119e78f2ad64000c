"""Random sampling with PyTorch's names: normal, bernoulli, multinomial and poisson draws, and the
state of the global generator (get_rng_state, set_rng_state, initial_seed, seed).

Every draw comes from neuralab's global generator (``manual_seed``) unless a ``generator=``
(``neuralab.Generator``) is given, so a seeded program repeats itself. As in PyTorch, a sample
is not reparameterised: its gradient with respect to the distribution's parameters is zero (the
score-function and reparameterisation estimators are built from these draws by the caller).

* ``multinomial`` with replacement inverts each row's cumulative distribution at uniform draws;
  without replacement it keeps the ``k`` largest p_i / E_i with E_i ~ Exp(1) (the exponential
  race: each index wins with probability p_i / Σ p over those not yet drawn).
"""

from __future__ import annotations

from typing import Any

from neuralab import backend, dtypes
from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp
from neuralab.ops._checks import broadcast_shape

__all__ = ["normal", "bernoulli", "multinomial", "poisson"]

TENSOR_METHODS = {"bernoulli": "bernoulli", "multinomial": "multinomial"}
REFLECTED: dict[str, str] = {}


class Sample(Function):
    """A random draw: the sample itself, with zero gradient for the distribution's parameters
    (as PyTorch's NormalBackward, BernoulliBackward, PoissonBackward)."""

    @staticmethod
    def forward(ctx, *parameters, sample=None):
        return sample

    @staticmethod
    def backward(ctx, dout):
        return tuple(xp.zeros(shape, dtype=dtype) for shape, dtype in ctx.input_meta)


def _sampled(sample: Any, *parameters: Tensor) -> Tensor:
    floats = [p for p in parameters if p.array.dtype.kind == "f"]
    return Sample.apply(*floats, sample=sample)


def _require_float(op: str, name: str, t: Tensor) -> None:
    if t.array.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {t.dtype}")


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False,
           layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Samples of N(mean, std²), PyTorch's four forms:

    * ``normal(mean_tensor, std_tensor)``: one draw per element of their broadcast shape (the
      dtype of ``mean``);
    * ``normal(mean_tensor, std=1.0)`` and ``normal(mean, std_tensor)``: the tensor's shape;
    * ``normal(mean, std, size)`` with numbers: a new tensor of ``size`` (``dtype``,
      ``requires_grad`` as in the factories).
    """
    rng = backend.as_rng(generator)
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError("normal: with a number mean and std, pass the size of the result, "
                            "e.g. normal(0.0, 1.0, (2, 3))")
        std = float(std)
        if std < 0:
            raise ValueError(f"normal expects std >= 0.0, but found std {std}")
        shape = (size,) if isinstance(size, (int, xp.integer)) else tuple(size)
        np_dtype = backend.default_float_dtype() if dtype is None else dtypes.as_numpy(dtype)
        if xp.dtype(np_dtype).kind != "f":
            raise TypeError(f"normal: dtype must be floating-point, got {dtype}")
        array = (rng.standard_normal(shape) * std + float(mean)).astype(np_dtype)
        return Tensor(array, dtype=array.dtype, requires_grad=requires_grad)
    if size is not None or dtype is not None or requires_grad:
        raise TypeError("normal: size, dtype and requires_grad are only for the form with a "
                        "number mean and std; with tensors the result takes their shape")
    for name, value, is_tensor in (("mean", mean, mean_t), ("std", std, std_t)):
        if is_tensor:
            _require_float("normal", name, value)
    if std_t:
        if std.numel() and not bool((std.array >= 0).all()):
            raise ValueError("normal expects all elements of std >= 0.0")
    elif float(std) < 0:
        raise ValueError(f"normal expects std >= 0.0, but found std {float(std)}")
    out_dtype = mean.array.dtype if mean_t else std.array.dtype
    m = mean.array if mean_t else float(mean)
    s = std.array if std_t else float(std)
    shape = broadcast_shape("normal", xp.shape(m), xp.shape(s))
    sample = (rng.standard_normal(shape) * s + m).astype(out_dtype, copy=False)
    return _sampled(xp.asarray(sample), *(t for t in (mean, std) if isinstance(t, Tensor)))


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """0/1 draws of ``input``'s shape and dtype: 1 with probability ``input[i]`` (a floating
    tensor of probabilities in [0, 1]), or with probability ``p`` when it is given."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    rng = backend.as_rng(generator)
    if p is None:
        _require_float("bernoulli", "input (the probabilities)", input)
        probs = input.array
        if probs.size and not bool(((probs >= 0) & (probs <= 1)).all()):
            raise ValueError("bernoulli: expects all probabilities in input to be in [0, 1]")
    else:
        if isinstance(p, Tensor):
            p = p.item()
        if not 0 <= float(p) <= 1:
            raise ValueError(f"bernoulli expects p to be in [0, 1], but got p={p}")
        probs = float(p)
    sample = (rng.random(input.shape) < probs).astype(input.array.dtype)
    return _sampled(xp.asarray(sample), input)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:
    """Indices drawn from the categorical distribution of each row of ``input`` (non-negative
    weights, not necessarily normalised): int64 of shape (num_samples,) or (rows, num_samples).

    Without replacement every index appears at most once (so ``num_samples`` ≤ the number of
    categories); once the categories of positive weight run out, zero-weight ones follow.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim}")
    if input.array.dtype.kind != "f":
        raise TypeError(f"multinomial only supports floating-point dtypes for input, got: "
                        f"{input.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, xp.integer)):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise ValueError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                         f"without replacement ({num_samples} > {categories})")
    rng = backend.as_rng(generator)
    probs = input.array.astype(xp.float64).reshape(-1, categories)
    if probs.size:
        if not (xp.isfinite(probs).all() and (probs >= 0).all()):
            raise ValueError("multinomial: probability tensor contains either `inf`, `nan` or "
                             "element < 0")
        if not (probs.sum(axis=1) > 0).all():
            raise ValueError("multinomial: invalid multinomial distribution (sum of "
                             "probabilities <= 0)")
    rows = probs.shape[0]
    if replacement:
        out = xp.empty((rows, num_samples), dtype=xp.int64)
        uniform = rng.random((rows, num_samples))
        for r in range(rows):
            cdf = xp.cumsum(probs[r])
            cdf /= cdf[-1]
            out[r] = xp.searchsorted(cdf, uniform[r], side="right")
    else:
        with xp.errstate(divide="ignore"):
            keys = probs / rng.standard_exponential(probs.shape)
        out = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(xp.int64)
    return Tensor._from_op(out.reshape(tuple(input.shape[:-1]) + (num_samples,)), None, 0)


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """Poisson draws with rates ``input`` (non-negative, floating), of its shape and dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson: input must be a Tensor, got {type(input).__name__}")
    _require_float("poisson", "input (the rates)", input)
    rates = input.array
    if rates.size and not bool((rates >= 0).all()):
        raise ValueError("poisson: invalid Poisson rate, expected rate to be non-negative")
    rng = backend.as_rng(generator)
    sample = rng.poisson(rates.astype(xp.float64)).astype(rates.dtype)
    return _sampled(xp.asarray(sample), input)


# --------------------------------------------------------------------------- generator state
def get_rng_state() -> Tensor:
    """The global generator's state as a uint8 tensor (``set_rng_state`` restores it)."""
    return Tensor._from_op(xp.frombuffer(backend.get_state(), dtype=xp.uint8).copy(), None, 0)


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator to a state from ``get_rng_state``."""
    if not isinstance(new_state, Tensor) or new_state.array.dtype != xp.uint8:
        got = new_state.dtype if isinstance(new_state, Tensor) else type(new_state).__name__
        raise TypeError(f"set_rng_state: expected a uint8 tensor from get_rng_state, got {got}")
    backend.set_state(new_state.array.reshape(-1).tobytes())


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return backend.initial_seed()


def seed() -> int:
    """Reseed the global generator with a nondeterministic seed and return it."""
    return backend.seed()
