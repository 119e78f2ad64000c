"""A recorder of what happens inside a network while it trains (Lectures 6, 7 and 15).

Attached to any model, it records at chosen steps

* per leaf layer, the statistics of its output (forward hooks): mean, standard deviation, the
  fraction of saturated units for sigmoid (y < 0.01 or y > 0.99) and tanh (|y| > 0.99), and the
  fraction of dead ReLU outputs (y = 0) and of units that are zero for every example of the batch;
* per leaf layer, the norm of the gradient of the loss with respect to its output, h̄ = ∂L/∂h
  (a Tensor hook on the output: the backpropagated signal of Lecture 6);
* per parameter, the norm of its gradient ‖w̄‖ (a Tensor hook on the parameter), and, around the
  optimizer's step, the update-to-weight ratio ‖Δw‖ / ‖w‖ (``before_step`` / ``after_step``),
  which Lecture 7's rule of thumb wants near 1e-3.

It then says in plain words when gradients vanish (the first layer's gradient is a tiny fraction
of the last layer's: backpropagation multiplies by a Jacobian per layer, and a sigmoid's
derivative is at most 1/4) or explode (a norm above a threshold, or growing from step to step),
when units saturate and when ReLUs die.

Example::

    rec = Recorder(model, every=50)
    for step, (x, y) in enumerate(loader):
        rec.set_step(step)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward()
        rec.before_step(); opt.step(); rec.after_step()
    print("\\n".join(rec.messages()))
    rec.plot_gradient_norms().savefig("grads.png")

Activations applied as functions inside a module's ``forward`` (``F.relu(x)``) are not leaf
modules and are therefore not seen; use ``nn.ReLU()`` modules to have them recorded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from neuralab.autograd import Tensor
from neuralab.backend import xp
from neuralab.nn.functional import cross_entropy
from neuralab.nn.module import Module
from neuralab.plotting import colors, subplots

__all__ = ["Recorder", "plot_layer_histograms"]

_SATURATING = {"Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid"}
_RECTIFYING = {"ReLU", "ReLU6"}


def _first_tensor(output: Any) -> Tensor | None:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _norm(array: Any) -> float:
    return float(xp.sqrt(xp.sum(xp.square(array, dtype=xp.float64))))


class Recorder:
    """Record activation statistics, gradient norms and update ratios of a model's layers.

    Args:
        model: any ``nn.Module``; hooks go on its leaf modules and its parameters.
        every: record every ``every``-th step (steps are set with :meth:`set_step`).
        steps: alternatively, an explicit collection of steps to record (overrides ``every``).
        saturation: a sigmoid/tanh output counts as saturated when it is within ``1 - saturation``
            of its bounds (0.99: sigmoid < 0.01 or > 0.99, |tanh| > 0.99).
        vanish_ratio: flag vanishing gradients when ‖first layer's w̄‖ / ‖last layer's w̄‖ falls
            below this.
        explode_norm: flag exploding gradients when a parameter's gradient norm exceeds this.
        explode_growth: flag exploding gradients when the total gradient norm grows by more than
            this factor across the recorded steps.
        histogram_samples: values of each layer's output kept per recorded step for histograms.
        attach: attach the hooks now (otherwise call :meth:`attach`).

    Attributes:
        records: every measurement as a dict with ``series`` ("activations", "output_grads",
            "grads" or "updates"), ``step`` and the values; ready for ``metrics.jsonl``.
    """

    def __init__(self, model: Any, every: int = 1, steps: Iterable[int] | None = None,
                 saturation: float = 0.99, vanish_ratio: float = 1e-3,
                 explode_norm: float = 1e3, explode_growth: float = 1e2,
                 histogram_samples: int = 4000, attach: bool = True):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"Recorder: every must be a positive integer, got {every!r}")
        if not 0.5 < saturation < 1:
            raise ValueError(f"Recorder: saturation must lie in (0.5, 1), got {saturation!r}")
        if not isinstance(model, Module):
            raise TypeError(f"Recorder: model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.every = every
        self.steps = None if steps is None else set(int(s) for s in steps)
        self.saturation = saturation
        self.vanish_ratio = vanish_ratio
        self.explode_norm = explode_norm
        self.explode_growth = explode_growth
        self.histogram_samples = histogram_samples
        self.records: list[dict[str, Any]] = []
        self.samples: dict[int, dict[str, Any]] = {}  # step -> layer -> sample of outputs
        self.step = 0
        self.active = self._wanted(0)
        self._handles: list[Any] = []
        self._before: dict[str, Any] = {}
        self._layers = [(name, module) for name, module in model.named_modules()
                        if name and not any(True for _ in module.children())]
        if not self._layers:  # the model is itself a single layer
            self._layers = [(type(model).__name__, model)]
        self._params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self._param_by_name = dict(self._params)
        if attach:
            self.attach()

    # ---------------------------------------------------------------- control
    def _wanted(self, step: int) -> bool:
        return step in self.steps if self.steps is not None else step % self.every == 0

    def set_step(self, step: int) -> bool:
        """Declare the current training step; returns whether it will be recorded."""
        self.step = int(step)
        self.active = self._wanted(self.step)
        return self.active

    def attach(self) -> Recorder:
        """Register the forward hooks on leaf layers and the gradient hooks on parameters."""
        if self._handles:
            return self
        for name, module in self._layers:
            self._handles.append(module.register_forward_hook(self._forward_hook(name)))
        for name, param in self._params:
            self._handles.append(param.register_hook(self._param_hook(name)))
        return self

    def detach(self) -> None:
        """Remove every hook; the records stay."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> Recorder:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    # ---------------------------------------------------------------- hooks
    def _forward_hook(self, name: str) -> Any:
        def hook(module: Any, args: tuple, output: Any) -> None:
            if not self.active:
                return
            y = _first_tensor(output)
            if y is None or y.dtype.kind != "f":
                return
            kind = type(module).__name__
            self.records.append(self._activation_stats(name, kind, y.array))
            if y.requires_grad:
                y.register_hook(self._output_grad_hook(name, kind, self.step))
        return hook

    def _activation_stats(self, name: str, kind: str, y: Any) -> dict[str, Any]:
        y64 = y.astype(xp.float64, copy=False)
        row: dict[str, Any] = {"series": "activations", "step": self.step, "layer": name,
                               "type": kind, "mean": float(y64.mean()), "std": float(y64.std()),
                               "min": float(y64.min()), "max": float(y64.max())}
        bound = self.saturation
        if kind in ("Sigmoid", "Hardsigmoid"):
            row["saturated"] = float(((y64 < 1 - bound) | (y64 > bound)).mean())
        elif kind in _SATURATING:
            row["saturated"] = float((xp.abs(y64) > bound).mean())
        if kind in _RECTIFYING:
            zero = y64 == 0
            row["dead"] = float(zero.mean())
            # A unit is dead on this batch when it is zero for every example (axis 0).
            row["dead_units"] = float(zero.all(axis=0).mean()) if y64.ndim > 1 else row["dead"]
        flat = y64.reshape(-1)
        if flat.size > self.histogram_samples:
            # With replacement: O(samples), where a permutation of a big layer would be O(size).
            index = xp.random.default_rng(0).integers(0, flat.size, self.histogram_samples)
            flat = flat[index]
        self.samples.setdefault(self.step, {})[name] = flat.copy()
        return row

    def _output_grad_hook(self, name: str, kind: str, step: int) -> Any:
        def hook(grad: Tensor) -> None:
            self.records.append({"series": "output_grads", "step": step, "layer": name,
                                 "type": kind, "norm": _norm(grad.array)})
        return hook

    def _param_hook(self, name: str) -> Any:
        def hook(grad: Tensor) -> None:
            if self.active:
                param = self._param_by_name[name]
                self.records.append({"series": "grads", "step": self.step, "param": name,
                                     "norm": _norm(grad.array), "weight_norm": _norm(param.array),
                                     "shape": list(param.shape)})
        return hook

    def probe(self, x: Tensor, y: Tensor, step: int, loss_fn: Callable | None = None) -> float:
        """One recorded forward and backward pass on a fixed batch, outside training.

        Measures the network as it stands (at initialization, after training) on the same
        examples each time, filed under ``step``; the parameters' gradients are cleared
        afterwards and nothing more is recorded until the next :meth:`set_step`, so training
        can go on with the hooks idle. Overflow in a saturated network is expected here and
        not warned about.

        Args:
            x, y: the probe batch (inputs and targets).
            step: the step the records are filed under.
            loss_fn: ``loss_fn(output, y)``; default ``F.cross_entropy``.

        Returns:
            The loss on the batch.
        """
        self.step, self.active = int(step), True
        self.model.zero_grad()
        with xp.errstate(all="ignore"):
            loss = (loss_fn or cross_entropy)(self.model(x), y)
            loss.backward()
        self.model.zero_grad()
        self.active = False
        return float(loss.item())

    # ---------------------------------------------------------------- optimizer step
    def before_step(self) -> None:
        """Call just before ``optimizer.step()``: keeps a copy of the weights (recorded steps)."""
        if self.active and self._handles:
            self._before = {name: p.array.copy() for name, p in self._params}

    def after_step(self) -> None:
        """Call just after ``optimizer.step()``: records ‖Δw‖ / ‖w‖ per parameter."""
        if not self.active or not self._before or not self._handles:
            return
        for name, param in self._params:
            old = self._before.get(name)
            if old is None:
                continue
            weight = _norm(old)
            update = _norm(param.array - old)
            self.records.append({"series": "updates", "step": self.step, "param": name,
                                 "update_norm": update,
                                 "ratio": update / weight if weight > 0 else math.inf})
        self._before = {}

    def wrap(self, optimizer: Any) -> Any:
        """Make ``optimizer.step()`` call :meth:`before_step` and :meth:`after_step` itself."""
        step = optimizer.step

        def recorded_step(*args: Any, **kwargs: Any) -> Any:
            self.before_step()
            result = step(*args, **kwargs)
            self.after_step()
            return result

        optimizer.step = recorded_step
        return optimizer

    # ---------------------------------------------------------------- queries
    def rows(self, series: str, step: int | None = None) -> list[dict[str, Any]]:
        """The records of one series, at one step (default: the latest step that has any)."""
        rows = [r for r in self.records if r["series"] == series]
        if not rows:
            return []
        if step is None:
            step = max(r["step"] for r in rows)
        return [r for r in rows if r["step"] == step]

    def recorded_steps(self, series: str = "grads") -> list[int]:
        return sorted({r["step"] for r in self.records if r["series"] == series})

    def gradient_norms(self, step: int | None = None) -> dict[str, float]:
        """Parameter name → ‖w̄‖ at ``step`` (default: the latest recorded), in the model's
        parameter order (the hooks fire in backward order, last layer first)."""
        found = {r["param"]: r["norm"] for r in self.rows("grads", step)}
        return {name: found[name] for name, _ in self._params if name in found}

    def layer_gradient_norms(self, step: int | None = None) -> dict[str, float]:
        """Leaf-layer name → ‖∂L/∂h‖ of its output at ``step``, from the first layer to the last
        (summed in quadrature over repeated calls)."""
        totals: dict[str, float] = {}
        for r in self.rows("output_grads", step):
            totals[r["layer"]] = totals.get(r["layer"], 0.0) + r["norm"] ** 2
        order = [name for name, _ in self._layers]
        return {k: math.sqrt(totals[k]) for k in order if k in totals}

    def weight_gradient_ratio(self, step: int | None = None) -> float | None:
        """‖w̄‖ of the first weight matrix / ‖w̄‖ of the last one (weights: 2-d or more)."""
        shapes = {name: p.ndim for name, p in self._params}
        norms = [(k, v) for k, v in self.gradient_norms(step).items() if shapes.get(k, 0) >= 2]
        if len(norms) < 2:
            return None
        first, last = norms[0][1], norms[-1][1]
        return first / last if last > 0 else math.inf

    def diagnose(self, step: int | None = None) -> list[dict[str, Any]]:
        """Problems at ``step`` (default: the latest), each ``{"kind", "message", ...}``.

        Kinds: ``vanishing``, ``exploding``, ``saturated``, ``dead``.
        """
        flags: list[dict[str, Any]] = []
        grads = self.gradient_norms(step)
        shapes = {name: p.ndim for name, p in self._params}
        weights = [(k, v) for k, v in grads.items() if shapes.get(k, 0) >= 2]
        if len(weights) >= 2:
            (first, g_first), (last, g_last) = weights[0], weights[-1]
            ratio = g_first / g_last if g_last > 0 else math.inf
            if ratio < self.vanish_ratio:
                flags.append({"kind": "vanishing", "ratio": ratio, "message": (
                    f"gradients vanish: the first layer's gradient norm is {ratio:.1e} of the "
                    f"last layer's (‖∂L/∂{first}‖ = {g_first:.2e}, ‖∂L/∂{last}‖ = {g_last:.2e})")})
        bad = [(k, v) for k, v in grads.items() if not math.isfinite(v) or v > self.explode_norm]
        if bad:
            k, v = max(bad, key=lambda kv: kv[1] if math.isfinite(kv[1]) else math.inf)
            flags.append({"kind": "exploding", "norm": v, "message": (
                f"gradients explode: ‖∂L/∂{k}‖ = {v:.2e} exceeds {self.explode_norm:.0e}"
                + (f" ({len(bad)} parameters above it)" if len(bad) > 1 else ""))})
        steps = self.recorded_steps("grads")
        if len(steps) >= 3:
            totals = [math.sqrt(sum(v ** 2 for v in self.gradient_norms(s).values()))
                      for s in steps]
            if totals[0] > 0 and totals[-1] / totals[0] > self.explode_growth and all(
                    b >= a for a, b in zip(totals, totals[1:])):
                flags.append({"kind": "exploding", "growth": totals[-1] / totals[0], "message": (
                    f"gradients explode: the total gradient norm grew {totals[-1] / totals[0]:.1e}"
                    f"-fold from step {steps[0]} to step {steps[-1]} ({totals[0]:.2e} → "
                    f"{totals[-1]:.2e})")})
        for r in self.rows("activations", step):
            if r.get("saturated", 0) > 0.5:
                flags.append({"kind": "saturated", "layer": r["layer"], "message": (
                    f"units saturate: {r['saturated']:.0%} of the outputs of {r['layer']} "
                    f"({r['type']}) lie in the flat tails, where the derivative is almost 0")})
            if r.get("dead_units", 0) > 0.5:
                flags.append({"kind": "dead", "layer": r["layer"], "message": (
                    f"ReLUs die: {r['dead_units']:.0%} of the units of {r['layer']} output 0 for "
                    "every example of the batch, so they get no gradient")})
        return flags

    def messages(self, step: int | None = None) -> list[str]:
        """The problems of :meth:`diagnose` as plain sentences (empty when all looks healthy)."""
        return [f["message"] for f in self.diagnose(step)]

    # ---------------------------------------------------------------- output
    def to_jsonl(self, path: str | Path) -> Path:
        """Append every record to a JSON-lines file (a run's ``metrics.jsonl``)."""
        path = Path(path)
        with open(path, "a", encoding="utf-8") as f:
            for row in self.records:
                f.write(json.dumps(row) + "\n")
        return path

    def plot_gradient_norms(self, step: int | None = None, ax: Any = None) -> Any:
        """Bars of ‖w̄‖ per parameter (log scale) at ``step``; returns the figure."""
        grads = self.gradient_norms(step)
        if ax is None:
            fig, ax = subplots(figsize=(max(5.0, 0.5 * len(grads) + 2), 3.8))
        else:
            fig = ax.figure
        names = list(grads)
        values = [max(grads[n], 1e-30) for n in names]
        ax.bar(range(len(names)), values, color="#4c72b0")
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("gradient norm ‖∂L/∂w‖")
        shown = self.recorded_steps("grads")[-1] if step is None and grads else step
        ax.set_title(f"gradient norm per parameter (step {shown})")
        return fig

    def plot_activation_histograms(self, step: int | None = None, layers: list[str] | None = None,
                                   bins: int = 50) -> Any:
        """One histogram of outputs per layer at ``step`` (default: the latest); the figure."""
        if not self.samples:
            raise RuntimeError("Recorder.plot_activation_histograms: nothing recorded yet; run a "
                               "forward pass at a recorded step first")
        step = max(self.samples) if step is None else step
        samples = self.samples[step]
        names = [n for n in (layers or list(samples)) if n in samples]
        cols = min(4, len(names))
        rows = math.ceil(len(names) / cols)
        fig, axes = subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
        kinds = dict((name, type(m).__name__) for name, m in self._layers)
        for ax, name in zip(axes.ravel(), names):
            ax.hist(samples[name], bins=bins, color="#55a868")
            ax.set_title(f"{name} ({kinds.get(name, '')})", fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in axes.ravel()[len(names):]:
            ax.axis("off")
        fig.suptitle(f"activation histograms at step {step}")
        fig.tight_layout()
        return fig


def plot_layer_histograms(ax: Any, samples: list[Any], layers: int = 5, bins: int = 40,
                          value_range: tuple[float, float] | None = None) -> list[int]:
    """Overlaid histograms of the outputs of a few layers spread over the depth of a network.

    Glorot & Bengio (2010) read the health of a deep network off these: with well-scaled
    weights every layer's activations keep their spread; with weights too small they collapse
    towards the activation's value at 0 (0.5 for a sigmoid, 0 for tanh) as depth grows, and
    with weights too large they pile up in the saturated tails. All histograms share one range,
    so that the layers' spreads can be compared; the colour goes with depth.

    Args:
        ax: the matplotlib axes to draw on.
        samples: one array of sampled outputs per layer, first layer first (a ``Recorder``'s
            ``samples[step]`` values, say).
        layers: how many layers to show (at most): the first, the last and evenly spaced ones
            between (for 5: 1, L/4, L/2, 3L/4 and L).
        bins: the number of bins of each histogram.
        value_range: the range of the bins (default: from the smallest to the largest value
            shown).

    Returns:
        The indices of the layers drawn.
    """
    n = len(samples)
    # Layers 1, L/k, 2L/k, ... and L, for k = layers − 1 (indices from 0).
    chosen = sorted({i * n // max(1, layers - 1) for i in range(layers - 1)} | {n - 1}) if n else []
    lo = min((float(samples[i].min()) for i in chosen), default=0.0)
    hi = max((float(samples[i].max()) for i in chosen), default=1.0)
    if value_range is not None:
        lo, hi = value_range
    elif hi - lo < 1e-12:  # every value equal: a narrow range around it
        lo, hi = lo - 1e-3, hi + 1e-3
    palette = colors(n)
    for i in chosen:
        ax.hist(samples[i], bins=bins, range=(lo, hi), histtype="step", density=True,
                color=palette[i], label=f"layer {i + 1}")
    return chosen
