"""Weights in and out of neuralab: PyTorch state dicts, safetensors and npz files.

neuralab modules use PyTorch's parameter names and layouts (``features.0.weight`` of shape
(C_out, C_in, kh, kw), ``bn1.running_mean``...), so moving weights between the two libraries is a
matter of converting arrays, not of renaming:

    >>> model = neuralab.models.create("resnet18")
    >>> load_torch_state_dict(model, torchvision_model.state_dict())   # torch -> neuralab
    >>> sd = to_torch_state_dict(model)                                # neuralab -> numpy dict
    >>> torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})

This module never imports torch: torch tensors are recognised by their ``detach``/``cpu``/``numpy``
methods. safetensors (in the ``train`` extra) is imported only when a ``.safetensors`` file is read
or written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.backend import xp
from neuralab.fileio import atomic_path

__all__ = ["export_state_dict", "load_torch_state_dict", "to_torch_state_dict"]


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError as exc:
        raise ImportError(
            "interop: reading or writing .safetensors files needs the safetensors package; "
            "install it with `pip install safetensors` (or `pip install neuralab[train]`), or "
            "use format='npz'"
        ) from exc
    return st


def _to_array(name: str, value: Any) -> Any:
    """A torch tensor, Tensor, ndarray or number as an ndarray (torch detected by duck typing)."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        # torch.Tensor: bfloat16 has no NumPy dtype, so widen it first.
        tensor = value.detach().cpu()
        if str(getattr(tensor, "dtype", "")) == "torch.bfloat16":
            tensor = tensor.float()
        return tensor.numpy()
    if hasattr(value, "data") and isinstance(value.data, xp.ndarray):
        return value.data  # a neuralab Tensor / Parameter
    try:
        return xp.asarray(value)
    except Exception as exc:
        raise TypeError(f"load_torch_state_dict: entry {name!r} is a {type(value).__name__}, "
                        "not an array or tensor") from exc


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"load_torch_state_dict: file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return dict(_safetensors_numpy().load_file(str(path)))
    if suffix == ".npz":
        with xp.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    raise ValueError(
        f"load_torch_state_dict: cannot read {path.name}: expected a .safetensors or .npz file "
        "(for a torch .pt/.pth checkpoint, torch.load it yourself and pass the dict)"
    )


def load_torch_state_dict(model: Any, state_dict_or_path: Any, strict: bool = True) -> Any:
    """Copy weights from a PyTorch state dict (or a ``.safetensors``/``.npz`` file) into ``model``.

    Args:
        model: a neuralab ``Module`` with the same architecture (same key names and shapes).
        state_dict_or_path: a mapping name -> torch tensor / ndarray / Tensor, or a path to a
            ``.safetensors`` or ``.npz`` file. A ``{"state_dict": ...}`` checkpoint and the
            ``module.`` prefix of ``DataParallel`` are unwrapped.
        strict: require exactly the model's keys (missing or unexpected keys raise).

    Returns:
        The ``(missing_keys, unexpected_keys)`` result of ``model.load_state_dict``.

    Raises:
        KeyError / ValueError: from ``load_state_dict``, naming the keys or shapes that differ.
    """
    if isinstance(state_dict_or_path, (str, os.PathLike)):
        state = _read_file(Path(state_dict_or_path))
    elif isinstance(state_dict_or_path, Mapping):
        state = dict(state_dict_or_path)
    else:
        raise TypeError(
            f"load_torch_state_dict: expected a state dict or a file path, got "
            f"{type(state_dict_or_path).__name__}"
        )
    if isinstance(state.get("state_dict"), Mapping):  # a training checkpoint
        state = dict(state["state_dict"])
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    arrays = {name: _to_array(name, value) for name, value in state.items()}
    # The live tensors when the module offers them (no copy of a 138M-parameter VGG).
    own = model._state_tensors() if hasattr(model, "_state_tensors") else model.state_dict()
    # Keep each array in the dtype of the model's own entry (float64 checkpoints into a float32
    # model, int64 num_batches_tracked): load_state_dict copies the values.
    for name, value in arrays.items():
        if name in own and hasattr(own[name], "dtype") and value.dtype != own[name].dtype:
            arrays[name] = value.astype(own[name].dtype)
    return model.load_state_dict(arrays, strict=strict)


def to_torch_state_dict(model: Any) -> dict[str, Any]:
    """The model's parameters and persistent buffers as ``{torch key: ndarray}`` (copies).

    ``num_batches_tracked`` is int64 and every float array keeps its dtype, as PyTorch expects;
    convert with ``{k: torch.from_numpy(v) for k, v in sd.items()}``.
    """
    return {name: xp.array(value, copy=True) for name, value in model.state_dict().items()}


def export_state_dict(model: Any, path: str | os.PathLike | None = None,
                      format: str = "safetensors") -> dict[str, Any]:
    """Save the model's state dict to ``path`` (atomically) and return it as numpy arrays.

    Args:
        model: a neuralab ``Module``.
        path: destination file; None only returns the dict. The suffix is not changed.
        format: ``'safetensors'`` (loadable by ``safetensors.torch.load_file``) or ``'npz'``.

    Returns:
        The ``{name: ndarray}`` state dict that was written.
    """
    if format not in ("safetensors", "npz"):
        raise ValueError(f"export_state_dict: format must be 'safetensors' or 'npz', got "
                         f"{format!r}")
    # (np.ascontiguousarray would turn the 0-d num_batches_tracked into shape (1,).)
    state = {k: xp.array(v, order="C") for k, v in model.state_dict().items()}
    if path is None:
        return state
    with atomic_path(path) as tmp:  # an interrupted save never leaves a broken file
        if format == "safetensors":
            _safetensors_numpy().save_file(state, str(tmp))
        else:
            with open(tmp, "wb") as f:
                xp.savez(f, **state)
    return state
