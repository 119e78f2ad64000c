"""Devices with PyTorch's names on a library that runs on the CPU.

neuralab computes with NumPy, so every tensor lives in the CPU's memory. The device API is here
so that PyTorch programs run unchanged: ``nl.device("cpu")``, ``x.to(device)``, ``device=`` on
every factory, ``nl.cuda.is_available()`` (False). Asking for a GPU raises one clear message
rather than silently computing somewhere else than asked. A GPU array library would add its
device here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device", "get_default_device", "set_default_device"]

NO_GPU = ("neuralab runs on the CPU (NumPy); there is no {kind} device. Use device='cpu', or "
          "write device = 'cuda' if neuralab.cuda.is_available() else 'cpu' so that the same "
          "program runs on both")

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia")


class device:  # noqa: N801  (PyTorch's name)
    """A device: ``device("cpu")``, ``device("cpu", 0)``, ``device("cpu:0")``.

    Args:
        type: ``"cpu"`` (``"cuda"``, ``"mps"`` and the others raise: neuralab has only the CPU),
            optionally with an index ``"cpu:0"``; or another device.
        index: the device index (only 0 exists).
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(NO_GPU.format(kind=f"CUDA device {type}"))
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        kind, _, number = type.partition(":")
        if kind not in _KNOWN:
            raise RuntimeError(f"device: expected one of cpu, cuda, mps, ... device type at "
                               f"start of device string: {type!r}")
        if kind != "cpu":
            raise RuntimeError(NO_GPU.format(kind=kind))
        if number:
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        if index is not None and index != 0:
            raise RuntimeError(f"device: there is one CPU device (index 0), got index {index}")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device objects are immutable")

    def __repr__(self) -> str:
        return (f"device(type='{self.type}')" if self.index is None
                else f"device(type='{self.type}', index={self.index})")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return (device, (self.type, self.index))


CPU = device("cpu")


def check(value: Any, op: str) -> None:
    """Accept ``device=`` when it names the CPU (a string, a device or None); raise otherwise."""
    if value is None or value is CPU:
        return
    if isinstance(value, str) and value in ("cpu", "cpu:0"):
        return
    try:
        device(value)
    except RuntimeError as err:
        raise RuntimeError(f"{op}: {err}") from None


def set_default_device(device_: Any) -> None:
    """Where new tensors are made, as PyTorch's ``set_default_device``: only the CPU exists, so
    ``None``, ``"cpu"`` and ``device("cpu")`` are accepted and anything else raises."""
    if device_ is not None:
        device(device_)


def get_default_device() -> device:
    """``device(type='cpu')``: new tensors are always made in the CPU's memory."""
    return device("cpu")

