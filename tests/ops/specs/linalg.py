"""Specs of matrix multiplication (and the fused linear layer)."""

import torch
import torch.nn.functional as TF

import neuralab as nl
from neuralab import ops
from tests.ops.specs import OpSpec

SPECS = [
    OpSpec("matmul", nl.matmul, torch.matmul, [
        ((3, 4), (4, 5)),           # matrix @ matrix
        ((1, 1), (1, 1)),
        ((4,), (4,)),               # vector · vector -> 0-d
        ((4,), (4, 5)),             # row vector @ matrix
        ((3, 4), (4,)),             # matrix @ column vector
        ((2, 3, 4), (4, 5)),        # batched @ shared matrix
        ((2, 3, 4), (2, 4, 5)),     # batched @ batched
        ((2, 1, 3, 4), (5, 4, 2)),  # broadcasting batch dimensions
        ((4,), (2, 4, 3)),          # vector @ batch
        ((2, 3, 4), (4,)),          # batch @ vector
        ((1, 3, 4), (2, 4, 1)),
    ]),
    OpSpec("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [((3, 4), (4, 2))]),
]

if "linear" in ops.__all__:
    SPECS += [
        OpSpec("linear", nl.linear, TF.linear, [((3, 4), (5, 4), (5,)), ((2, 3, 4), (5, 4), (5,)),
                                                ((4,), (2, 4), (2,)), ((1, 1), (1, 1), (1,))]),
        OpSpec("linear", lambda x, w: nl.linear(x, w), lambda x, w: TF.linear(x, w),
               [((3, 4), (5, 4)), ((2, 1, 4), (3, 4))]),
    ]
