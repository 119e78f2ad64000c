"""Specs of matrix multiplication (and the fused linear layer)."""

import numpy as np
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


def _einsum(eq, shapes):
    return OpSpec("einsum", lambda *xs: nl.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs),
                  shapes)


def _scaled(name, ours, theirs, shapes):
    return OpSpec(name, lambda c, a, b: ours(c, a, b, beta=0.5, alpha=-2.0),
                  lambda c, a, b: theirs(c, a, b, beta=0.5, alpha=-2.0), shapes)


def _invertible(rng, shapes):
    """Well-conditioned matrices (identity plus a small perturbation) and right-hand sides."""
    a = np.eye(shapes[0][-1]) * 2 + rng.uniform(-0.5, 0.5, shapes[0])
    return [a] + [rng.uniform(-2, 2, s) for s in shapes[1:]]


SPECS += [
    _einsum("ij,jk->ik", [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((0, 3), (3, 2))]),
    _einsum("ij,jk", [((2, 3), (3, 4))]),
    _einsum("bij,bjk->bik", [((2, 2, 3), (2, 3, 4)), ((0, 2, 3), (0, 3, 1))]),
    _einsum("ii->i", [((3, 3),)]),
    _einsum("ii", [((3, 3),)]),
    _einsum("iij->j", [((3, 3, 2),)]),
    _einsum("iji->j", [((2, 3, 2),)]),
    _einsum("...ij,...jk", [((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (4, 2))]),
    _einsum("i...->...", [((2, 3, 4),)]),
    _einsum("a...b,b...->a...", [((2, 3, 4), (4, 3))]),
    _einsum("bA,Ab", [((2, 3), (3, 2))]),
    _einsum("ba", [((2, 3),)]),
    _einsum("i,i", [((3,), (3,)), ((0,), (0,))]),
    _einsum("i,j->ij", [((3,), (4,))]),
    _einsum("ij,ij->ij", [((2, 3), (1, 3)), ((2, 3), (2, 3))]),
    _einsum("ij->", [((2, 3),)]),
    _einsum("ij,kl->", [((2, 3), (4, 5))]),
    _einsum("ij,j->", [((2, 3), (3,))]),
    _einsum("ijk,k->i", [((2, 3, 4), (4,))]),
    _einsum("ij,jk,kl->il", [((2, 3), (3, 4), (4, 5))]),
    _einsum(" i j , j k -> k i ", [((2, 3), (3, 4))]),
    _einsum("...,...->...", [((3,), (2, 3)), ((), ())]),
    OpSpec("einsum", lambda a, b: nl.einsum(a, [0, 1], b, [1, 2], [0, 2]),
           lambda a, b: torch.einsum(a, [0, 1], b, [1, 2], [0, 2]), [((2, 3), (3, 4))]),
    OpSpec("einsum", lambda a, b: nl.einsum("ij,jk", [a, b]),
           lambda a, b: torch.einsum("ij,jk", [a, b]), [((2, 3), (3, 4))]),
    OpSpec("mm", nl.mm, torch.mm, [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((0, 2), (2, 3))]),
    OpSpec("mm", lambda a, b: a.mm(b), lambda a, b: a.mm(b), [((3, 2), (2, 0))]),
    OpSpec("bmm", nl.bmm, torch.bmm, [((2, 2, 3), (2, 3, 4)), ((1, 1, 1), (1, 1, 1))]),
    OpSpec("mv", nl.mv, torch.mv, [((2, 3), (3,)), ((0, 3), (3,))]),
    OpSpec("dot", nl.dot, torch.dot, [((3,), (3,)), ((1,), (1,)), ((0,), (0,))]),
    OpSpec("vdot", nl.vdot, torch.vdot, [((3,), (3,))]),
    OpSpec("inner", nl.inner, torch.inner, [((2, 3), (4, 3)), ((3,), (3,)), ((), (2, 3)),
                                            ((2, 3), ())]),
    OpSpec("outer", nl.outer, torch.outer, [((2,), (3,)), ((1,), (1,)), ((0,), (2,))]),
    OpSpec("ger", nl.ger, torch.ger, [((2,), (3,))]),
    _scaled("addmm", nl.addmm, torch.addmm, [((3,), (2, 3), (3, 3)), ((2, 3), (2, 4), (4, 3))]),
    OpSpec("addmm", nl.addmm, torch.addmm, [((1, 1), (2, 3), (3, 4))]),
    _scaled("addmv", nl.addmv, torch.addmv, [((2,), (2, 3), (3,))]),
    _scaled("addr", nl.addr, torch.addr, [((2, 3), (2,), (3,))]),
    _scaled("baddbmm", nl.baddbmm, torch.baddbmm, [((3,), (2, 2, 3), (2, 3, 3)),
                                                   ((2, 2, 3), (2, 2, 4), (2, 4, 3))]),
    _scaled("addbmm", nl.addbmm, torch.addbmm, [((2, 4), (3, 2, 3), (3, 3, 4))]),
    OpSpec("tensordot", nl.tensordot, torch.tensordot, [((2, 3, 4), (3, 4, 5))]),
    OpSpec("tensordot", lambda a, b: nl.tensordot(a, b, ([1, 2], [1, 0])),
           lambda a, b: torch.tensordot(a, b, dims=([1, 2], [1, 0])), [((2, 3, 4), (4, 3, 5))]),
    OpSpec("tensordot", lambda a, b: nl.tensordot(a, b, 0),
           lambda a, b: torch.tensordot(a, b, 0), [((2, 3), (4,))]),
    OpSpec("kron", nl.kron, torch.kron, [((2, 3), (4,)), ((2, 2), (3, 2)), ((2,), (3,)),
                                         ((1, 2, 2), (2, 1))]),
    OpSpec("cross", lambda a, b: nl.cross(a, b, dim=1), lambda a, b: torch.cross(a, b, dim=1),
           [((2, 3), (2, 3)), ((4, 3, 2), (1, 3, 2))]),
    OpSpec("cross", lambda a, b: nl.cross(a, b, dim=-1), torch.linalg.cross,
           [((3, 3), (1, 3)), ((3,), (3,))]),
    OpSpec("det", nl.det, torch.det, [((3, 3),), ((2, 2, 2),), ((1, 1),)], make=_invertible),
    OpSpec("inverse", nl.inverse, torch.inverse, [((3, 3),), ((2, 2, 2),)], make=_invertible),
    OpSpec("solve", nl.solve, torch.linalg.solve, [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)),
                                                   ((3, 3), (3,))], make=_invertible),
]



def _power(n):
    return OpSpec("matrix_power", lambda a: nl.matrix_power(a, n),
                  lambda a: torch.linalg.matrix_power(a, n), [((3, 3),), ((2, 2, 2),)],
                  make=_invertible)


SPECS += [
    *[_power(n) for n in (0, 1, 2, 5, -1, -2)],
    OpSpec("chain_matmul", nl.chain_matmul, lambda *ms: torch.linalg.multi_dot(ms),
           [((2, 3), (3, 4), (4, 2)), ((2, 3), (3, 1))]),
]
