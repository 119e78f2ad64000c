"""Install the ops as Tensor methods and operators (``x + y``, ``x @ w``, ``x.sum(dim=1)``).

The autograd layer does not import the ops; the ops attach themselves to Tensor here instead,
which keeps the imports one-way.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.tensor import Tensor


def _swap(fn: Any) -> Any:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return reflected


def install(ops: Any) -> None:
    """Attach the functions of the ``neuralab.ops`` namespace to Tensor."""
    operators = {
        "__add__": ops.add, "__radd__": _swap(ops.add),
        "__sub__": ops.sub, "__rsub__": _swap(ops.sub),
        "__mul__": ops.mul, "__rmul__": _swap(ops.mul),
        "__truediv__": ops.div, "__rtruediv__": _swap(ops.div),
        "__pow__": ops.pow, "__rpow__": _swap(ops.pow),
        "__matmul__": ops.matmul, "__rmatmul__": _swap(ops.matmul),
        "__neg__": ops.neg,
        "__eq__": ops.eq, "__ne__": ops.ne, "__lt__": ops.lt, "__le__": ops.le,
        "__gt__": ops.gt, "__ge__": ops.ge,
        "__getitem__": ops.getitem, "__setitem__": ops.indexing.setitem,
    }
    for name, fn in operators.items():
        setattr(Tensor, name, fn)
    methods = [
        "add", "sub", "mul", "div", "pow", "matmul", "neg", "exp", "log", "sqrt", "abs", "tanh",
        "sigmoid", "relu", "clamp", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
        "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax",
        "argmax", "argmin", "reshape", "view", "transpose", "permute", "expand", "squeeze",
        "unsqueeze", "flatten", "split", "chunk", "expand_as", "view_as",
    ]
    methods += [  # indexing, rearranging and linear algebra (ops-index)
        "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
        "index_copy", "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
        "take_along_dim", "nonzero", "argwhere", "unique", "bincount", "tril", "triu", "roll",
        "flip", "fliplr", "flipud", "rot90", "repeat", "tile", "repeat_interleave", "diag",
        "diagonal", "diag_embed", "trace", "movedim", "moveaxis", "swapaxes", "swapdims",
        "unbind", "unflatten", "broadcast_to", "tensor_split", "hsplit", "vsplit", "narrow",
        "select", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
        "addr", "baddbmm", "addbmm", "kron", "cross", "det", "inverse", "index_put", "t",
        "ravel", "adjoint", "diagflat", "put", "index_reduce", "unique_consecutive",
        "matrix_power",
    ]
    for name in ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
                 "index_fill", "masked_fill", "masked_scatter", "index_put", "tril", "triu", "put",
                 "index_reduce"):
        setattr(Tensor, name + "_", ops.indexing.inplace(getattr(ops, name)))
    for name in methods:
        setattr(Tensor, name, getattr(ops, name))
    Tensor.unfold = ops.rearrange.sliding_windows  # torch's method, not F.unfold
    Tensor.reshape_as = lambda self, other: ops.reshape(self, tuple(other.shape))
    Tensor.mT = property(lambda self: ops.adjoint(self),
                         doc="The last two dimensions swapped (a batch of matrices transposed).")
    Tensor.mH = Tensor.mT  # real tensors: the conjugate transpose is the transpose
    Tensor.H = property(lambda self: ops.t(self), doc="A matrix's (conjugate) transpose.")
    Tensor.T = property(lambda self: ops.permute(self, tuple(reversed(range(self.ndim)))),
                        doc="The tensor with its dimensions reversed (a matrix's transpose).")

    def to(self: Tensor, dtype: Any) -> Tensor:
        """A tensor of the given dtype (differentiable; ``self`` if the dtype already matches)."""
        return ops.cast(self, dtype)

    Tensor.to = to
    Tensor.clip = ops.clamp
    Tensor.any = lambda self: Tensor(self.array.any())
    Tensor.all = lambda self: Tensor(self.array.all())
