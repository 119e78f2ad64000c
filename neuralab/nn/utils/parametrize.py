"""``nn.utils.parametrize``: a tensor of a module computed from other tensors on every access.

``register_parametrization(module, "weight", P)`` moves the weight W into
``module.parametrizations.weight.original`` (the same Parameter object, so an optimizer built
before keeps updating it) and makes ``module.weight`` a property that returns P(original). The
gradient of the loss reaches ``original`` through P's ops: training updates the unconstrained
``original`` while the layer always uses P(original) (a unit-norm, orthogonal or Lipschitz
weight; Lecture 9's constraints without projection steps).

As in PyTorch, the module's class is replaced by a subclass ``Parametrized<Class>`` holding the
property, the state-dict keys are ``parametrizations.weight.original`` (``original0``,
``original1``, ... when ``right_inverse`` returns several tensors), and assigning
``module.weight = value`` stores ``right_inverse(value)`` into the originals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuralab.autograd.grad_mode import no_grad
from neuralab.autograd.tensor import Tensor
from neuralab.nn.module import Module, ModuleDict, ModuleList, Parameter

__all__ = [
    "ParametrizationList", "register_parametrization", "is_parametrized",
    "remove_parametrizations", "cached", "type_before_parametrizations",
]

_cache_enabled = 0
_cache: dict[tuple[int, str], Tensor] = {}
# (id(module), name) -> tensor used instead of the parametrization (functional_call).
_overrides: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor once inside the block and reuse it.

    Useful when a weight is read several times per forward (a recurrent layer over many time
    steps) or to evaluate the parametrization once per step as the old hook-based
    ``weight_norm`` did. Blocks may nest; the cache is cleared when the outermost one exits.
    """
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _maybe_set(dest: Tensor, src: Tensor) -> None:
    """PyTorch's ``dest.set_(src)``: ``dest`` (the same object) takes ``src``'s values and shape."""
    dest.array = src.array


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _check_tensor(value: Any, what: str) -> None:
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(value).__name__}.")


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original tensor(s).

    Not built by hand: ``register_parametrization`` makes one per parametrized tensor and keeps
    it in ``module.parametrizations[name]``.

    Args:
        modules: the parametrizations (modules whose ``forward`` maps tensors to a tensor and
            that may define ``right_inverse``).
        original: the parameter or buffer being parametrized.
        unsafe: skip the checks that the parametrization keeps the shape and dtype.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: "
                    f"{new.dtype}")
            if new is not original:
                _maybe_set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the sequence "
                                     f"with type {type(originali).__name__}.")
                if isinstance(original, Parameter):
                    originali = Parameter(originali.array.copy(), original.requires_grad)
                else:
                    originali = originali.detach()
                originali.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", originali)
        if not self.unsafe:
            z = self()
            _check_tensor(z, "A parametrization")
            if z.dtype != original_dtype:
                raise ValueError(
                    "Registering a parametrization may not change the dtype of the tensor, "
                    "unless `unsafe` flag is enabled.\n"
                    f"unparametrized dtype: {original_dtype}\nparametrized dtype: {z.dtype}")
            if z.shape != original_shape:
                raise ValueError(
                    "Registering a parametrization may not change the shape of the tensor, "
                    "unless `unsafe` flag is enabled.\n"
                    f"unparametrized shape: {original_shape}\nparametrized shape: {z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Store into the originals the tensor(s) whose parametrized value is ``value``:
        ``right_inverse`` of each parametrization, last first."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                _check_tensor(value, "`right_inverse`")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _maybe_set(self.original, value)
            else:
                if not isinstance(value, Sequence):
                    raise ValueError("'right_inverse' must return a sequence of tensors. "
                                     f"Got {type(value).__name__}.")
                if len(value) != self.ntensors:
                    raise ValueError("'right_inverse' must return a sequence of tensors of "
                                     f"length {self.ntensors}. Got a sequence of length "
                                     f"{len(value)}.")
                for i, tensor in enumerate(value):
                    original_i = getattr(self, f"original{i}")
                    _check_tensor(tensor, f"`right_inverse` element {i}")
                    if original_i.dtype != tensor.dtype:
                        raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                         f"{tensor.dtype} while `original{i}` has dtype "
                                         f"{original_i.dtype}")
                    _maybe_set(original_i, tensor)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


class _ParametrizedTensor:
    """The property ``module.<name>`` of a parametrized module's class."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        key = (id(obj), self.name)
        if key in _overrides:
            return _overrides[key]
        parametrization = obj.parametrizations[self.name]
        if _cache_enabled:
            tensor = _cache.get(key)
            if tensor is None:
                tensor = parametrization()
                _cache[key] = tensor
            return tensor
        return parametrization()

    def __set__(self, obj: Any, value: Any) -> None:
        obj.parametrizations[self.name].right_inverse(value)


def _inject_new_class(module: Module) -> None:
    cls = module.__class__

    def __setattr__(self: Module, name: str, value: Any) -> None:
        if isinstance(type(self).__dict__.get(name), _ParametrizedTensor):
            if isinstance(value, Parameter):
                raise KeyError(f"attribute '{name}' already exists: it is parametrized; assign a "
                               "tensor (stored through right_inverse) or call "
                               "remove_parametrizations first")
            type(self).__dict__[name].__set__(self, value)
        else:
            cls.__setattr__(self, name, value)

    # object.__setattr__: Module.__setattr__ would store "__class__" as a plain attribute.
    object.__setattr__(module, "__class__",
                       type(f"Parametrized{cls.__name__}", (cls,), {"__setattr__": __setattr__}))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)``, computed on access.

    The first registration on a tensor moves it to
    ``module.parametrizations[tensor_name].original``, after replacing its values by
    ``parametrization.right_inverse(tensor)`` when the parametrization has one (so the module
    computes the same function as before, if the tensor already satisfied the constraint). A
    second registration on the same tensor is applied after the first.

    Args:
        module: the module owning the parameter or buffer.
        tensor_name: the parameter's or buffer's name.
        parametrization: a Module whose ``forward`` maps the original(s) to the tensor. It may
            define ``right_inverse(value)`` returning one tensor or a sequence of tensors (then
            the originals are ``original0``, ``original1``, ...).
        unsafe: skip checking that the parametrization keeps the tensor's shape and dtype.

    Returns:
        The module.
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}; wrap a function in a Module's forward")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            _check_tensor(x, "A parametrization")
            if x.dtype != y.dtype:
                raise ValueError(
                    "Registering a parametrization may not change the dtype of the tensor, "
                    "unless the `unsafe` flag is enabled.\n"
                    f"module.{tensor_name}.dtype: {y.dtype}\n"
                    f"parametrization(module.{tensor_name}).dtype: {x.dtype}")
            if x.shape != y.shape:
                raise ValueError(
                    "Registering a parametrization may not change the shape of the tensor, "
                    "unless the `unsafe` flag is enabled.\n"
                    f"module.{tensor_name}.shape: {y.shape}\n"
                    f"parametrization(module.{tensor_name}).shape: {x.shape}")
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    _check_tensor(z, "parametrization.right_inverse")
                    if z.dtype != y.dtype or z.shape != y.shape:
                        raise ValueError(
                            "The tensor returned by parametrization.right_inverse must have the "
                            f"same dtype and shape as module.{tensor_name}, unless the `unsafe` "
                            f"flag is enabled: got {z.dtype} {tuple(z.shape)}, expected "
                            f"{y.dtype} {tuple(y.shape)}")
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{module._get_name()}' has its '{tensor_name}' set to None: "
                             "there is nothing to parametrize")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        setattr(module.__class__, tensor_name, _ParametrizedTensor(tensor_name))
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module._get_name()}' does not have a parameter, a buffer, or "
                         f"a parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization`` on ``tensor_name``.

    Args:
        module: the parametrized module.
        tensor_name: the tensor whose parametrizations go.
        leave_parametrized: keep the current parametrized value (True) or the original
            tensor's (False). With one original, the same Parameter object stays registered,
            so an optimizer keeps working.

    Returns:
        The module.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module._get_name()} does not have a parametrization on "
                         f"{tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            _maybe_set(original, t)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        t = getattr(module, tensor_name)
        original = Parameter(t.detach().array.copy(), t.requires_grad) if t.requires_grad \
            else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__", module.__class__.__bases__[0])
    return module
