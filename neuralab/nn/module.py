"""Module and Parameter: the building blocks of networks (Lectures 5-6), with PyTorch's semantics.

A :class:`Module` owns :class:`Parameter` tensors (the weights that training updates), buffers
(state that is saved but not trained, such as batch-norm running means) and child modules.
Assigning one of these to an attribute registers it, so ``model.parameters()`` finds every weight
of a nested network and ``model.state_dict()`` names it with the dotted path PyTorch uses
(``features.0.weight``), which keeps checkpoints interchangeable with PyTorch's.

Registered values are also stored as ordinary instance attributes, so reading ``self.weight`` in
``forward`` costs a plain attribute lookup: the hot path of training never goes through
``__getattr__``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from neuralab import devices, dtypes
from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import RemovableHandle, Tensor
from neuralab.backend import xp
from neuralab.nn import hooks as module_hooks
from neuralab.ops.shape import flatten

__all__ = [
    "Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten",
]


class Parameter(Tensor):
    """A Tensor that is a weight of a Module: assigning it to a module attribute registers it.

    Args:
        data: the initial values (an ndarray, a Tensor whose array is shared, or numbers).
        requires_grad: whether training computes its gradient (True by default).
    """

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = xp.empty((0,), dtype=xp.float32)
        data = data.array if isinstance(data, Tensor) else data
        # An array keeps its dtype (a float64 weight stays float64), as in PyTorch; lists
        # follow the usual rule (floats become float32).
        dtype = data.dtype if isinstance(data, xp.ndarray) and data.dtype.kind == "f" else None
        super().__init__(data, dtype=dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match, as PyTorch returns it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _as_array(value: Any) -> Any:
    """The ndarray inside a state-dict value (an ndarray, a Tensor, or a PyTorch tensor)."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing it
        return value.detach().cpu().numpy()
    return xp.asarray(value)


def _is_lazy(value: Any) -> bool:
    """Whether ``value`` is an ``nn.UninitializedParameter``/``UninitializedBuffer`` (of a lazy
    module before its first forward; see ``neuralab.nn.parameter``)."""
    return getattr(value, "_uninitialized", False)


def _state_value(tensor: Tensor, keep_vars: bool = False) -> Any:
    """A state-dict entry: a Tensor holding a copy of the values (``keep_vars=True``: the
    parameter or buffer itself), or the placeholder itself while uninitialized (as PyTorch's
    state dicts of lazy modules hold ``<UninitializedParameter>``)."""
    if keep_vars or _is_lazy(tensor):
        return tensor
    return Tensor._from_op(tensor.array.copy(), None, 0)


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])



def _add_hook(method: str, hooks: list, hook: Callable, prepend: bool) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"{method}: hook must be callable, got {type(hook).__name__}")
    hooks.insert(0, hook) if prepend else hooks.append(hook)
    return RemovableHandle(hooks, hook)

class _FlaggedHook:
    """A forward hook registered with ``with_kwargs=True`` or ``always_call=True``."""

    def __init__(self, hook: Callable, with_kwargs: bool = False, always_call: bool = False):
        self.hook, self.with_kwargs, self.always_call = hook, with_kwargs, always_call

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)


class Module:
    """Base class of every layer and network.

    Subclasses call ``super().__init__()`` first, assign their Parameters and submodules as
    attributes, and define ``forward``. Calling the module runs the forward pre-hooks,
    ``forward`` and the forward hooks.

    Example:
        >>> class TwoLayer(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(784, 256)
        ...         self.out = nn.Linear(256, 10)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = []
        d["_forward_pre_hooks"] = []

    # ----------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function; '
            "define forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The common case (no hooks) is a few attribute tests and the forward call.
        if self._forward_pre_hooks or self._forward_hooks or self.__dict__.get("_backward_hooks") \
                or self.__dict__.get("_backward_pre_hooks"):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in tuple(self._forward_pre_hooks):
            if isinstance(hook, _FlaggedHook) and hook.with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result!r}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hooks = self.__dict__.get("_backward_hooks") or \
            self.__dict__.get("_backward_pre_hooks")
        if backward_hooks:
            args, call = module_hooks.wrap_inputs(self, args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook in tuple(self._forward_hooks):
                if isinstance(hook, _FlaggedHook) and hook.always_call:
                    try:
                        hook(self, args, kwargs, None) if hook.with_kwargs else \
                            hook(self, args, None)
                    except Exception:  # noqa: BLE001, S110  (PyTorch: the forward's error wins)
                        pass
            raise
        for hook in tuple(self._forward_hooks):
            if isinstance(hook, _FlaggedHook) and hook.with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hooks:
            output = module_hooks.wrap_outputs(call, output)
        return output

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces ``args``.
        With ``with_kwargs=True``, ``hook(module, args, kwargs)``, returning None or
        ``(args, kwargs)``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        if with_kwargs:
            hook = _FlaggedHook(hook, with_kwargs=True)
        return _add_hook("register_forward_pre_hook", self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a non-None result replaces
        the output. Diagnostics (activation statistics, summaries) are built on this. With
        ``with_kwargs=True``, ``hook(module, args, kwargs, output)``; with
        ``always_call=True`` the hook also runs (with output None) when forward raises.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        if with_kwargs or always_call:
            hook = _FlaggedHook(hook, with_kwargs=with_kwargs, always_call=always_call)
        return _add_hook("register_forward_hook", self._forward_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's inputs are computed; a non-None result replaces ``grad_input``
        (see ``neuralab.nn.hooks``).

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return module_hooks.add_backward_hook(self, "_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are known; a non-None result replaces ``grad_output``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return module_hooks.add_backward_hook(self, "_backward_pre_hooks", hook, prepend)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(f"{type(self).__name__}: cannot assign parameters before "
                                     "Module.__init__() call; call super().__init__() first")
            self._forget(name, "_parameters")
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError(f"{type(self).__name__}: cannot assign a submodule before "
                                     "Module.__init__() call; call super().__init__() first")
            self._forget(name, "_modules")
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter "
                    f"'{name}' (a Parameter or None is expected); wrap it: nn.Parameter(value)"
                )
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                f"child module '{name}' (a Module or None is expected)")
            d["_modules"][name] = None
        elif params is not None and getattr(value, "_is_buffer", False) \
                and isinstance(value, Tensor):
            # nn.Buffer(t, persistent=...) registers a buffer when assigned (PyTorch 2.5+)
            self.register_buffer(name, value, getattr(value, "persistent", True))
            return
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                f"buffer '{name}' (a Tensor or None is expected)")
            d["_buffers"][name] = value
        d[name] = value

    def _forget(self, name: str, keep: str = "") -> None:
        """Remove ``name`` from every registry but ``keep`` (where re-assigning it keeps its
        position, so that replacing ``model[1]`` does not reorder the state dict)."""
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent"].discard(name)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if "_parameters" in d:
            self._forget(name)
        object.__delattr__(self, name)

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing attributes (registered ones live in __dict__).
        if name.startswith("_") and "_parameters" not in self.__dict__:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}': "
                                 "did its __init__ call super().__init__() first?")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, e.g. an absent bias) under ``name``."""
        self._check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got "
                            f"{type(param).__name__}; wrap it: nn.Parameter(tensor)")
        self._forget(name, "_parameters")
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a Tensor that belongs to the module's state but is not trained.

        Args:
            name: the attribute name (and the state-dict key under the module's prefix).
            tensor: the buffer (a Tensor, an ndarray, or None).
            persistent: whether ``state_dict()`` includes it.
        """
        self._check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._forget(name, "_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got "
                            f"{type(module).__name__}")
        self._check_name("add_module", name)
        self._forget(name, "_modules")
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def _check_name(self, op: str, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{op}: call Module.__init__() (super().__init__()) first")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{op}: name must be a non-empty string without '.', got {name!r}")

    # ----------------------------------------------------------------- traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, each module once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct children."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter); a parameter shared by two layers is listed once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each shared one once), in registration order: give it to an
        optimizer."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str) -> Module:
        """The descendant at the dotted path ``target`` ('' is the module itself)."""
        module = self
        if target == "":
            return module
        walked = []
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"get_submodule: {type(module).__name__} at '{'.'.join(walked) or '<root>'}' "
                    f"has no submodule '{part}' (children: {list(module._modules)})"
                )
            module = child
            walked.append(part)
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. ``'features.0.weight'``)."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if module._parameters.get(name) is None:
            raise AttributeError(f"get_parameter: {type(module).__name__} has no parameter "
                                 f"'{name}' (parameters: {list(module._parameters)})")
        return module._parameters[name]

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``): dropout off, batch norm uses running stats."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient computation on or off for every parameter (e.g. to freeze layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (the default) or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant and then on this module (e.g. custom init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- dtype
    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False) -> Module:
        """Convert parameters and floating buffers to ``dtype`` in place (the same Parameter
        objects, so an optimizer built before still updates them).

        As PyTorch's: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``.
        Only the CPU exists (a GPU device raises; see ``neuralab.devices``).
        """
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, devices.device)):
                device = arg
            elif isinstance(arg, bool):
                continue
            elif isinstance(arg, int):
                device = arg
            else:
                dtype = arg
        devices.check(device, "Module.to")
        if dtype is None:
            return self
        dtype = dtypes.as_numpy(dtype, "Module.to")
        if dtype.kind != "f":
            raise TypeError(f"Module.to: nn.Module.to only accepts floating point dtypes, but "
                            f"got desired dtype={dtypes.of(dtype)}")
        for module in self.modules():
            for tensor in list(module._parameters.values()) + list(module._buffers.values()):
                if tensor is None or tensor.dtype.kind != "f" or tensor.dtype == dtype:
                    continue
                tensor.array = tensor.array.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad.array = tensor.grad.array.astype(dtype)
        return self

    def float(self) -> Module:
        """Convert floating parameters and buffers to float32."""
        return self.to(xp.float32)

    def double(self) -> Module:
        """Convert floating parameters and buffers to float64 (for gradient checks)."""
        return self.to(xp.float64)

    def half(self) -> Module:
        """Convert floating parameters and buffers to float16."""
        return self.to(xp.float16)

    def type(self, dst_type: Any) -> Module:
        """Convert floating parameters and buffers to ``dst_type``."""
        return self.to(dst_type)

    def cpu(self) -> Module:
        """The module itself: its parameters are already in the CPU's memory."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises: neuralab has no GPU (use ``.to(device)`` with a device that may be the CPU)."""
        raise RuntimeError(devices.NO_GPU.format(kind="cuda"))

    # ----------------------------------------------------------------- state
    def state_dict(self, *args: Any, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Copies of every parameter and persistent buffer, keyed by dotted path as in PyTorch
        (``0.weight``, ``features.1.running_mean``).

        Args:
            destination: a dict to fill (a new OrderedDict by default).
            prefix: prepended to every key.
            keep_vars: the parameters and buffers themselves instead of copies (PyTorch's
                ``keep_vars=True``: they still require grad).

        Returns:
            An ordered dict of name -> Tensor (copies, unlike PyTorch's views of the weights:
            later training does not change them, so keeping one needs no ``deepcopy``).
        """
        if args:  # PyTorch's deprecated positional form state_dict(destination, prefix, keep_vars)
            if len(args) > 3:
                raise TypeError(f"state_dict() takes at most 3 positional arguments "
                                f"({len(args)} given)")
            given = dict(zip(("destination", "prefix", "keep_vars"), args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        out = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    out[dot + name] = _state_value(param, keep_vars)
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    out[dot + name] = _state_value(buf, keep_vars)
        return out

    def _state_tensors(self) -> dict[str, Tensor]:
        """The live tensors behind ``state_dict()`` keys."""
        out = {}
        for module_prefix, module in self.named_modules():
            dot = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    out[dot + name] = param
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    out[dot + name] = buf
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy values into the parameters and buffers in place (so optimizers keep working).

        Args:
            state_dict: name -> ndarray, Tensor or PyTorch tensor (a PyTorch model's
                ``state_dict()`` loads when the architectures match).
            strict: require the keys to match exactly; with False, missing and unexpected keys
                are returned instead of raising.

        Returns:
            ``(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing missing and unexpected keys (strict) and every shape mismatch,
                naming the key and both shapes.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, got "
                            f"{type(state_dict).__name__}")
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict:
            if unexpected:
                problems.append("Unexpected key(s) in state_dict: "
                                + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                problems.append("Missing key(s) in state_dict: "
                                + ", ".join(f'"{k}"' for k in missing) + ".")
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            if _is_lazy(state_dict[key]):  # saved by a lazy module before its first forward
                if not _is_lazy(target):
                    problems.append(f"{key}: the checkpoint's value is uninitialized (a lazy "
                                    "module saved before its first forward) but the model's "
                                    "is not; run a forward pass before saving")
                continue
            value = _as_array(state_dict[key])
            if _is_lazy(target):  # a lazy module takes the checkpoint's shape, as PyTorch's
                arrays[key] = value
            elif value.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
            else:
                arrays[key] = value
        if problems:
            hint = ("" if not (missing or unexpected) else
                    "\n\tHint: was the checkpoint saved from a different architecture? "
                    "load_state_dict(sd, strict=False) skips missing/unexpected keys.")
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems) + hint)
        with no_grad():
            for key, value in arrays.items():
                if _is_lazy(own[key]):
                    own[key].materialize(value.shape)
                own[key].array[...] = value
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's repr (hyperparameters)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        if not self._modules and "\n" not in extra:
            return f"{self._get_name()}({extra})"
        body = "\n  ".join(lines)
        return f"{self._get_name()}(\n  {body}\n)"


# --------------------------------------------------------------------------- containers


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(784, 256), ReLU(), Linear(256, 10))``.

    Also built from an ``OrderedDict`` of name -> module (the names become the state-dict
    prefixes). Indexing gives a layer, slicing a new Sequential sharing the layers.
    """

    def __init__(self, *args: Any):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not "
                                    "a Module; did you pass a function? wrap it in a Module")
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not isinstance(idx, (int, xp.integer)) or not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for "
                             f"{n} module(s)")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._index(idx)]
        for key in keys:
            delattr(self, key)
        # Renumber the rest 0, 1, ... as PyTorch does, so that append() cannot collide.
        modules = list(self._modules.values())
        for key in list(self._modules):
            delattr(self, key)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list hides them)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not isinstance(idx, (int, xp.integer)) or not -n <= idx < n:
            raise IndexError(f"ModuleList: index {idx} is out of range for {n} module(s)")
        return str(idx % n)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[idx]
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add every module of ``modules`` at the end."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it in your module's "
                                  "forward (for layer in self.layers: x = layer(x))")


class ModuleDict(Module):
    """A dict of name -> module whose parameters are registered."""

    def __init__(self, modules: dict[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module '{key}' (keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Any) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: pick modules by name in your "
                                  "module's forward")


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); arguments are accepted and ignored."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flattens dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C·H·W), the bridge
    from convolutional features to fully connected layers (Lecture 11)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

