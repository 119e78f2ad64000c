"""The optimizer base class: parameter groups, per-parameter state, and saving both (Lecture 7).

An optimizer turns the gradients that backpropagation left in ``p.grad`` into a change of the
parameters ``p.array``. Every optimizer of Lecture 7 is a rule of the form

    θ ← θ − α · (some function of the gradient history)

so what they share is bookkeeping: which tensors to update with which hyperparameters (the
*parameter groups*), what each remembers between steps (the *state*: a momentum buffer, running
averages of squared gradients), and how to save and restore both. The names and the layout of
``state_dict()`` follow ``torch.optim`` so that habits and checkpoints carry over.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from neuralab.autograd import Tensor, enable_grad
from neuralab.backend import xp

_FLOAT_KIND = "f"


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors (for instance ``model.parameters()``), or an iterable of
            dicts, each one a *parameter group* with a ``'params'`` entry and optional
            hyperparameters overriding ``defaults`` for that group (different learning rates
            for different layers).
        defaults: the hyperparameters (``lr``, ``momentum``...) used by groups that do not set
            them.

    Attributes:
        param_groups: list of dicts; ``group['params']`` is a list of Tensors and the other keys
            are the group's hyperparameters (a scheduler changes ``group['lr']``).
        state: dict mapping each parameter (the Tensor itself) to a dict of what the optimizer
            remembers about it (``'momentum_buffer'``, ``'exp_avg'``, ``'step'``...).
        defaults: the default hyperparameters.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        # Scratch arrays for the update arithmetic, shared by parameters of the same shape and
        # dtype: the steps run one parameter at a time, so one set of buffers per shape is enough
        # and the hot path allocates nothing after the first step. Not part of the state.
        self._workspace: dict[tuple, list[Any]] = {}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                f"got a single Tensor of shape {params.shape}; pass [tensor] or "
                "model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts; for one "
                            "parameter group pass [group]")
        params = list(params)
        if not params:
            raise ValueError(
                f"{name}: got an empty parameter list; did the model define its layers as "
                "attributes (so that model.parameters() finds them), or was a generator of "
                "parameters already consumed?"
            )
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (for instance layers unfrozen during fine-tuning).

        Args:
            param_group: a dict with ``'params'`` (a Tensor or an iterable of Tensors) and any
                hyperparameters that should differ from the optimizer's defaults.

        Raises:
            TypeError: an entry is not a floating-point Tensor.
            ValueError: a parameter appears twice, in this group or in another group.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry, "
                            f"got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: the parameter group has no 'params' entry (keys: "
                             f"{sorted(param_group)})")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{name}: a parameter group has an empty 'params' list")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} of the group is a "
                                f"{type(p).__name__}, expected a Tensor")
            if p.array.dtype.kind != _FLOAT_KIND:
                raise TypeError(f"{name}: parameter {i} has dtype {p.array.dtype}; only "
                                "floating-point tensors can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) is not a leaf tensor "
                                 "(an op produced it); optimize the leaf, or .detach() it and "
                                 "set requires_grad=True")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears twice in the "
                                 "same parameter group; pass each parameter once")
            seen.add(id(p))
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if existing & seen:
            raise ValueError(f"{name}: some parameters appear in more than one parameter group; "
                             "each parameter may belong to one group only")
        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters (subclasses override; ``__init__`` checks defaults)."""

    # ------------------------------------------------------------------ the update
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter before the next backward pass.

        Args:
            set_to_none: drop the gradient (``p.grad = None``, the default: cheaper, and a
                parameter that then gets no gradient is skipped by ``step``) instead of filling
                it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional function that clears the gradients, recomputes the loss, calls
                ``backward()`` and returns the loss; it runs (with gradients enabled) before the
                update.

        Returns:
            The closure's loss, or None.
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, self._grad(p), self.state.setdefault(p, {}), group)
                    # An in-place update, as PyTorch counts it: a graph that saved p before the
                    # step can no longer be backpropagated through (it would use the new p).
                    p._bump_version()
        return loss

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Apply one step of the rule to ``p.array`` in place (each optimizer defines it)."""
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _grad(self, p: Tensor) -> Any:
        grad = p.grad.array if isinstance(p.grad, Tensor) else xp.asarray(p.grad)
        if grad.shape != p.array.shape:
            raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} has a "
                             f"gradient of shape {grad.shape}; they must match")
        return grad

    def _buffers(self, p: Tensor, count: int) -> list[Any]:
        """``count`` scratch arrays shaped like ``p`` (reused across parameters and steps)."""
        key = (p.array.shape, p.array.dtype.str)
        buffers = self._workspace.setdefault(key, [])
        while len(buffers) < count:
            buffers.append(xp.empty(p.array.shape, dtype=p.array.dtype))
        return buffers[:count]

    @staticmethod
    def _regularized_grad(grad: Any, p: Any, weight_decay: float, maximize: bool,
                          out: Any) -> Any:
        """g = ±∇L + λθ: the gradient of the (negated if maximizing) L2-regularized objective.

        The L2 penalty λ/2‖θ‖² adds λθ to the gradient ("weight decay", Lecture 9). The user's
        gradient is never modified: when it has to change it is written into ``out``.
        """
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=out)
            if maximize:
                out -= grad
            else:
                out += grad
            return out
        if maximize:
            return xp.negative(grad, out=out)
        return grad

    def _decayed_grad(self, grad: Any, p: Any, group: dict[str, Any], decoupled: bool,
                      out: Any) -> Any:
        """``_regularized_grad`` with the group's weight decay λ, or, when ``decoupled``
        (AdamW's rule), θ ← θ(1 − αλ) applied to ``p`` in place and the plain ±∇L returned."""
        weight_decay = group["weight_decay"]
        if decoupled:
            if weight_decay != 0:
                p *= 1 - group["lr"] * weight_decay
            weight_decay = 0
        return self._regularized_grad(grad, p, weight_decay, group["maximize"], out)

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, laid out as ``torch.optim.Optimizer.state_dict()``.

        Returns:
            ``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index...]}]}``
            where the index numbers the parameters in group order (0, 1, ...), so the dict does
            not depend on the Tensor objects; arrays are NumPy copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, entries in self.state.items():
            if id(p) in index and entries:
                state[index[id(p)]] = {
                    k: (v.copy() if isinstance(v, xp.ndarray) else copy.deepcopy(v))
                    for k, v in entries.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict()``.

        The parameters are matched by position: the optimizer must have been built with the same
        groups holding the same number of parameters, in the same order.

        Args:
            state_dict: a dict returned by ``state_dict()``.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             "'param_groups' (from Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} "
                             f"parameter groups but this optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameters but the saved group has {len(saved['params'])}; was the state "
                    "saved from a different model?"
                )
        by_index = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for k, p in zip(saved["params"], group["params"]):
                by_index[k] = p
        new_state: dict[Tensor, dict[str, Any]] = {}
        for k, entries in state_dict["state"].items():
            if k not in by_index:
                raise ValueError(f"{name}.load_state_dict: the saved state refers to parameter "
                                 f"{k}, which no saved group lists")
            p = by_index[k]
            restored = {}
            for key, value in entries.items():
                if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
                    value = value.detach().cpu().numpy()
                if isinstance(value, xp.ndarray) and value.ndim > 0:
                    if value.shape != p.array.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: state '{key}' of parameter {k} has shape "
                            f"{value.shape} but the parameter has shape {p.array.shape}"
                        )
                    value = xp.array(value, dtype=p.array.dtype, copy=True)
                elif isinstance(value, xp.ndarray):
                    value = value.item()
                else:
                    value = copy.deepcopy(value)
                if key == "step":
                    value = int(value)
                restored[key] = value
            new_state[p] = restored
        self.state = new_state
        for saved, group in zip(saved_groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------- validation helpers
def update_running_average(avg: Any, value: Any, decay: float, scratch: Any) -> None:
    """avg ← decay·avg + (1 − decay)·value, in place: an exponential moving average.

    Adam's two moments (β₁ for g, β₂ for g²) and RMSprop's mean square (and mean gradient, when
    centered) are all this update. ``scratch`` is a buffer of avg's shape (it may be ``value``).
    """
    avg *= decay
    xp.multiply(value, 1 - decay, out=scratch)
    avg += scratch


def _check_number(optimizer: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, xp.integer, xp.floating)):
        raise TypeError(f"{optimizer}: {name} must be a number, got {type(value).__name__} "
                        f"({value!r})")


def check_nonnegative(optimizer: str, name: str, value: Any, hint: str = "") -> None:
    """Raise ``ValueError`` unless ``value`` is a number >= 0."""
    _check_number(optimizer, name, value)
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{optimizer}: {name} must be >= 0, got {value}{hint}")


def check_unit_interval(optimizer: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` unless 0 <= value < 1 (a decay rate such as a beta or alpha)."""
    _check_number(optimizer, name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{optimizer}: {name} must be in [0, 1), got {value}; it is the decay "
                         "rate of a running average (0.9 keeps 90% of the old value per step)")


def check_betas(optimizer: str, betas: Any) -> None:
    """Raise unless ``betas`` is a pair (β₁, β₂) of decay rates, each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{optimizer}: betas must be a pair (beta1, beta2), got {betas!r}")
    check_unit_interval(optimizer, "betas[0]", betas[0])
    check_unit_interval(optimizer, "betas[1]", betas[1])
