"""A huge allocation inside an op names the op and the shapes (no bare MemoryError)."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab.autograd.function import Function


class _Greedy(Function):
    """An op whose forward cannot allocate its output."""

    @staticmethod
    def forward(ctx, x, y):
        raise MemoryError(f"Unable to allocate {x.shape[0] * y.shape[1] * 4} bytes")

    @staticmethod
    def backward(ctx, dout):  # pragma: no cover - never reached
        return None, None


def test_memory_error_names_the_op_and_the_shapes():
    x = nl.tensor(np.ones((200000, 1), np.float32), requires_grad=True)
    y = nl.tensor(np.ones((1, 200000), np.float32))
    with pytest.raises(MemoryError, match=r"_Greedy: out of memory in forward on inputs "
                       r"\(200000, 1\) float32, \(1, 200000\) float32: Unable to allocate"):
        _Greedy.apply(x, y)


def test_real_matmul_out_of_memory_names_matmul(monkeypatch):
    from neuralab.ops.linalg import MatMul

    def refuse(*args, **kwargs):
        raise MemoryError()

    x = nl.tensor(np.ones((3, 2), np.float32))
    monkeypatch.setattr(MatMul, "forward", staticmethod(refuse))
    with pytest.raises(MemoryError, match=r"MatMul: out of memory in forward on inputs "
                       r"\(3, 2\) float32, \(2, 3\) float32; use a smaller"):
        x @ x.T
