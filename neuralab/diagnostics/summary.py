"""Model summary: per-layer output shapes, parameters, multiply-accumulates, activation memory
and receptive fields (Lectures 11-12: the size arithmetic of convolutional networks).

``summary(model, (1, 28, 28))`` runs one example through the model with forward hooks on every
leaf layer and records what each layer produces. The receptive field of a unit is tracked per
tensor with the lecture's arithmetic, for a layer with kernel k, stride s, padding p, dilation d:

    out     = ⌊(in + 2p − d·(k − 1) − 1)/s⌋ + 1
    r_out   = r_in + (k − 1)·d·j_in          (size of the receptive field, in input pixels)
    j_out   = j_in · s                       (jump: input pixels between neighbouring units)
    start_out = start_in + ((k − 1)/2·d − p)·j_in   (centre of the first unit's field)

When the model does not fit the input, the error names the layer, the shapes, and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neuralab.autograd import Tensor, no_grad
from neuralab.backend import default_float, xp
from neuralab.nn.module import Module

__all__ = ["LayerSummary", "ModelSummary", "ReceptiveField", "summary"]


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a unit along (height, width): size r, jump j, start (centre)."""

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[float, float]
    is_global: bool = False

    def after(self, kernel, stride, padding, dilation) -> ReceptiveField:
        """The field after a layer with this kernel, stride, padding (top/left) and dilation."""
        size = tuple(r + (k - 1) * d * j for r, k, d, j in zip(self.size, kernel, dilation,
                                                              self.jump))
        jump = tuple(j * s for j, s in zip(self.jump, stride))
        start = tuple(st + ((k - 1) / 2 * d - p) * j for st, k, d, p, j in
                      zip(self.start, kernel, dilation, padding, self.jump))
        return ReceptiveField(size, jump, start, self.is_global)

    def text(self) -> tuple[str, str, str]:
        """Size, jump and start for the table (one number when both axes agree)."""
        if self.is_global:
            return "all", "-", "-"

        def show(pair):
            a, b = (int(v) if float(v).is_integer() else v for v in pair)
            return f"{a}" if a == b else f"{a}x{b}"

        return show(self.size), show(self.jump), show(self.start)


@dataclass
class LayerSummary:
    """One row of the summary: a leaf layer's call."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    trainable: int
    macs: int
    activation_bytes: int
    receptive_field: ReceptiveField | None


@dataclass
class ModelSummary:
    """What :func:`summary` found; ``str()`` gives the table.

    Attributes:
        rows: one LayerSummary per leaf-layer call, in call order.
        input_shape: the shape of one example.
        total_params, trainable_params: counted once per parameter tensor.
        total_macs: multiply-accumulates of one example (convolutions and linear layers).
        activation_bytes: memory of every layer's output for one example (kept for backward).
        param_bytes: memory of the parameters.
        output_shape: shape of the model's output for one example.
    """

    rows: list[LayerSummary]
    input_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    total_macs: int
    activation_bytes: int
    param_bytes: int
    output_shape: tuple[int, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output", "Params", "MACs", "Act. mem", "RF", "Jump",
                  "Start")
        lines = []
        for r in self.rows:
            rf = r.receptive_field.text() if r.receptive_field else ("", "", "")
            lines.append((r.name, r.type, _shape_text(r.output_shape), f"{r.params:,}",
                          f"{r.macs:,}", _bytes_text(r.activation_bytes)) + rf)
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
                  for i, h in enumerate(header)]
        right = {3, 4, 5, 6, 7, 8}

        def fmt(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        rule = "-" * len(fmt(header))
        out = [f"Input: {_shape_text(self.input_shape)}", rule, fmt(header), rule]
        out += [fmt(line) for line in lines]
        out += [rule,
                f"Total parameters:     {self.total_params:,} "
                f"({_bytes_text(self.param_bytes)})",
                f"Trainable parameters: {self.trainable_params:,}",
                f"Multiply-accumulates: {self.total_macs:,} per example "
                f"({self.total_macs / 1e6:.2f} M)",
                f"Activation memory:    {_bytes_text(self.activation_bytes)} per example "
                "(forward outputs kept for backward)",
                f"Output:               {_shape_text(self.output_shape)}"]
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"ModelSummary({len(self.rows)} layers, {self.total_params:,} parameters, "
                f"{self.total_macs:,} MACs)")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) if shape else "scalar"


def _bytes_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _geometry(module: Module, x: Tensor):
    """(kernel, stride, padding top/left, dilation) of a spatial layer, or None."""
    kind = type(module).__name__
    if kind == "Conv2d":
        pads = module._pads
        return module.kernel_size, module.stride, (pads[0][0], pads[1][0]), module.dilation
    if kind == "MaxPool2d":
        return (_pair(module.kernel_size), _pair(module.stride), _pair(module.padding),
                _pair(module.dilation))
    if kind == "AvgPool2d":
        return (_pair(module.kernel_size), _pair(module.stride), _pair(module.padding), (1, 1))
    return None


def _macs(module: Module, x: Tensor | None, out: Tensor) -> int:
    kind = type(module).__name__
    per_example = out.numel() // out.shape[0] if out.ndim > 0 and out.shape else out.numel()
    if kind == "Conv2d":
        kh, kw = module.kernel_size
        return per_example * (module.in_channels // module.groups) * kh * kw
    if kind == "Linear":
        return per_example * module.in_features
    if kind == "Bilinear":
        return per_example * module.in1_features * module.in2_features
    return 0


def _hint_for_linear(module: Module, got: int, before: tuple[int, ...] | None,
                     rf: ReceptiveField | None, image_hw: tuple[int, int] | None,
                     first_conv: Module | None) -> str:
    """How to make the features before a Linear layer match its in_features."""
    want = module.in_features
    if not before or len(before) != 3:
        return ""
    C, h, w = before
    if want % C or h != w:
        return ""
    side = round((want // C) ** 0.5)
    if side * side * C != want:
        return ""
    jump = rf.jump[0] if rf and not rf.is_global else 1
    grow = (side - h) * jump  # input pixels to add (or remove) per axis
    if image_hw is None or grow == 0:
        return ""
    size = f"{image_hw[0]}x{image_hw[1]}"
    if grow > 0 and grow % 2 == 0 and first_conv is not None and first_conv.stride == (1, 1) \
            and not isinstance(first_conv.padding, str) and first_conv.padding[0] == \
            first_conv.padding[1]:
        return (f"; for {size} inputs use padding={first_conv.padding[0] + grow // 2} in the "
                f"first conv, or feed {image_hw[0] + grow}x{image_hw[1] + grow} images")
    return f"; the model expects inputs of {image_hw[0] + grow}x{image_hw[1] + grow}, got {size}"


def summary(model: Module, input_shape: tuple[int, ...] | list[int], dtype: Any = None
            ) -> ModelSummary:
    """Summarize a model on one example of ``input_shape`` (without the batch dimension).

    Runs one forward pass in evaluation mode without gradients (the model's mode is restored)
    and records, per leaf layer: output shape, parameters, multiply-accumulates, activation
    memory and the receptive field (size, jump, start) of its units in input pixels.

    Args:
        model: a Module.
        input_shape: shape of one example, e.g. (1, 28, 28) or (3, 32, 32).
        dtype: input dtype (float32 by default).

    Returns:
        A ModelSummary; print it for the table.

    Raises:
        ValueError: when the model does not fit the input, naming the layer, the shapes it
            received and what would make them fit.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be an nn.Module, got {type(model).__name__}")
    shape = tuple(int(n) for n in input_shape)
    if not shape or any(n < 1 for n in shape):
        raise ValueError(f"summary: input_shape must be positive sizes, e.g. (1, 28, 28), got "
                         f"{input_shape!r}")
    dtype = default_float if dtype is None else xp.dtype(dtype)
    names = {id(m): name for name, m in model.named_modules()}
    leaves = [m for m in model.modules() if next(iter(m.children()), None) is None]
    if not leaves:
        leaves = [model]
    rows: list[LayerSummary] = []
    fields: dict[int, tuple[Tensor, ReceptiveField]] = {}  # id(tensor) -> (tensor, field)
    image_hw = shape[-2:] if len(shape) >= 3 else None
    state = {"last4d": None, "first_conv": None, "current": None}
    x = Tensor(xp.zeros((1,) + shape, dtype=dtype))
    if image_hw:
        fields[id(x)] = (x, ReceptiveField((1, 1), (1, 1), (0.0, 0.0)))

    def field_of(t: Any) -> ReceptiveField | None:
        if not isinstance(t, Tensor):
            return None
        known = fields.get(id(t))
        if known is not None and known[0] is t:
            return known[1]
        # A tensor made outside a layer (a residual sum, a concatenation): take the widest
        # field among the recorded tensors of the same shape (the deepest branch).
        same = [f for u, f in fields.values()
                if u.shape[-2:] == t.shape[-2:] and u.ndim == t.ndim]
        return max(same, key=lambda f: f.size, default=None)

    def pre_hook(module, args):
        x_in = args[0] if args else None
        name = names.get(id(module), type(module).__name__)
        kind = type(module).__name__
        state["current"] = f"layer '{name}' ({kind}) receiving {_shape_text(x_in.shape[1:])}" \
            if isinstance(x_in, Tensor) else f"layer '{name}' ({kind})"
        if kind == "Linear" and isinstance(x_in, Tensor) and x_in.shape[-1:] != \
                (module.in_features,):
            got = x_in.shape[-1] if x_in.ndim else 0
            before = state["last4d"]
            shown = "x".join(map(str, before)) if before else _shape_text(x_in.shape[1:])
            hint = _hint_for_linear(module, got, before, field_of_last(), image_hw,
                                    state["first_conv"])
            raise ValueError(
                f"summary: layer '{name}' Linear({module.in_features} -> {module.out_features}) "
                f"receives {got} features: the layers before it output {shown}{hint}")
        if kind == "Conv2d" and state["first_conv"] is None:
            state["first_conv"] = module

    def field_of_last() -> ReceptiveField | None:
        for r in reversed(rows):
            if r.receptive_field is not None and not r.receptive_field.is_global:
                return r.receptive_field
        return None

    def hook(module, args, out):
        x_in = args[0] if args else None
        outs = out if isinstance(out, (tuple, list)) else (out,)
        main = next((o for o in outs if isinstance(o, Tensor)), None)
        if main is None:
            return None
        kind = type(module).__name__
        rf_in = field_of(x_in)
        geometry = _geometry(module, x_in)
        if rf_in is None:
            rf = None
        elif geometry is not None:
            rf = rf_in.after(*geometry)
        elif kind.startswith("Adaptive") or kind in ("Flatten", "Linear") or main.ndim < 3:
            rf = ReceptiveField(rf_in.size, rf_in.jump, rf_in.start, is_global=True)
        else:
            rf = rf_in  # elementwise layers: activations, normalization, dropout, padding
        if kind.endswith("Pad2d") and rf is not None and not rf.is_global:
            left_top = (module.padding[2], module.padding[0])
            rf = ReceptiveField(rf.size, rf.jump, tuple(s - p * j for s, p, j in
                                                        zip(rf.start, left_top, rf.jump)))
        if rf is not None:
            fields[id(main)] = (main, rf)
        if main.ndim == 4:
            state["last4d"] = main.shape[1:]
        params = list(module.parameters(recurse=False))
        rows.append(LayerSummary(
            name=names.get(id(module), kind) or kind, type=kind,
            output_shape=main.shape[1:], params=sum(p.numel() for p in params),
            trainable=sum(p.numel() for p in params if p.requires_grad),
            macs=_macs(module, x_in, main),
            activation_bytes=sum(o.array.nbytes for o in outs if isinstance(o, Tensor))
            // max(1, main.shape[0]),
            receptive_field=rf))
        return None

    handles = []
    for m in leaves:
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(hook))
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            try:
                out = model(x)
            except ValueError as err:
                if str(err).startswith("summary:"):
                    raise
                where = f" at {state['current']}" if state["current"] else ""
                raise ValueError(f"summary: the model does not fit inputs of shape "
                                 f"{_shape_text(shape)}{where}: {err}") from err
    finally:
        for h in handles:
            h.remove()
        for m, mode in was_training:
            m.training = mode
    params = list(model.parameters())
    out_main = out if isinstance(out, Tensor) else next(
        (o for o in (out if isinstance(out, (tuple, list)) else ()) if isinstance(o, Tensor)),
        None)
    return ModelSummary(
        rows=rows, input_shape=shape,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        total_macs=sum(r.macs for r in rows),
        activation_bytes=sum(r.activation_bytes for r in rows),
        param_bytes=sum(p.numel() * p.array.itemsize for p in params),
        output_shape=out_main.shape[1:] if out_main is not None else ())
