"""Specs of gather/scatter, the index_* and masked_* ops and the index-valued results."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec


def _distinct(rng, shape):
    """Values at least 0.1 apart (no ties for amax/amin, no kink for the gradient check)."""
    n = int(np.prod(shape))
    return rng.permutation(n).reshape(shape) * 0.1 - 1.0 + rng.uniform(0, 0.01, shape)


def _gather_inputs(dim, repeat=True):
    """x of shapes[0], an index of shapes[1] along ``dim`` into it (repeats when allowed)."""
    def make(rng, shapes):
        x = _distinct(rng, shapes[0])
        n = shapes[0][dim] if shapes[0] else 1
        if repeat or not shapes[1]:
            index = rng.integers(0, n, size=shapes[1])
        else:  # a permutation per line: each target written once (scatter is then deterministic)
            index = np.argsort(rng.random(shapes[1][:dim] + (n,) + shapes[1][dim + 1:]), axis=dim)
            index = np.take(index, np.arange(shapes[1][dim]), axis=dim)
        arrays = [x, index]
        if len(shapes) > 2:
            arrays.append(_distinct(rng, shapes[2]) + 0.05)
        return arrays
    return make


def _mask_inputs(rng, shapes):
    arrays = [rng.uniform(-2, 2, shapes[0]), rng.random(shapes[1]) > 0.5]
    if len(shapes) > 2:
        arrays.append(rng.uniform(-2, 2, shapes[2]))
    return arrays


def _vector_index(n_of, size, low=0):
    def make(rng, shapes):
        x = rng.uniform(-2, 2, shapes[0])
        arrays = [x, rng.integers(low * n_of(shapes), n_of(shapes), size=size)]
        if len(shapes) > 1:
            arrays.append(rng.uniform(-2, 2, shapes[1]))
        return arrays
    return make


def _reduce_spec(reduce, include_self, shapes):
    return OpSpec(
        "scatter_reduce",
        lambda x, i, s: nl.scatter_reduce(x, 1, i, s, reduce, include_self=include_self),
        lambda x, i, s: torch.scatter_reduce(x, 1, i, s, reduce, include_self=include_self),
        shapes, make=_gather_inputs(1))


_REDUCE_SHAPES = [((3, 4), (3, 5), (3, 5)), ((2, 3), (2, 1), (2, 1)), ((2, 3), (2, 0), (2, 0)),
                  ((1, 1), (1, 3), (1, 3))]

SPECS = [
    OpSpec("gather", lambda x, i: nl.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i),
           [((3, 4), (3, 6)), ((3, 4), (2, 2)), ((1, 1), (1, 1)), ((3, 4), (3, 0))],
           make=_gather_inputs(1)),
    OpSpec("gather", lambda x, i: x.gather(0, i), lambda x, i: x.gather(0, i),
           [((3, 4, 2), (5, 4, 2)), ((4,), (6,))], make=_gather_inputs(0)),
    OpSpec("gather", lambda x, i: nl.gather(x, -1, i), lambda x, i: torch.gather(x, -1, i),
           [((), ())], make=_gather_inputs(0)),
    OpSpec("scatter", lambda x, i, s: nl.scatter(x, 1, i, s),
           lambda x, i, s: torch.scatter(x, 1, i, s),
           [((3, 5), (3, 2), (3, 2)), ((2, 4), (2, 4), (2, 4)), ((1, 1), (1, 1), (1, 1))],
           make=_gather_inputs(1, repeat=False)),
    OpSpec("scatter", lambda x, i: x.scatter(0, i, 1.5), lambda x, i: x.scatter(0, i, 1.5),
           [((4, 3), (2, 3)), ((4, 3), (0, 3))], make=_gather_inputs(0)),
    OpSpec("scatter", lambda x, i: nl.scatter(x, 0, i, value=-0.5),
           lambda x, i: torch.scatter(x, 0, i, value=-0.5), [((4,), (2,))], make=_gather_inputs(0)),
    OpSpec("scatter", lambda x, i, s: nl.scatter(x, 1, i, s, reduce="add"),
           lambda x, i, s: torch.scatter(x, 1, i, s, reduce="add"),
           [((3, 4), (3, 5), (3, 5))], make=_gather_inputs(1), grad_inputs=(),
           gradcheck=False),  # PyTorch has no derivative for scatter with reduce
    OpSpec("scatter_add", lambda x, i, s: nl.scatter_add(x, 1, i, s),
           lambda x, i, s: torch.scatter_add(x, 1, i, s),
           [((3, 4), (3, 6), (3, 6)), ((2, 3), (1, 2), (1, 2)), ((2, 3), (2, 0), (2, 0))],
           make=_gather_inputs(1)),
    OpSpec("scatter_add", lambda x, i, s: x.scatter_add(0, i, s),
           lambda x, i, s: x.scatter_add(0, i, s), [((5,), (8,), (8,))], make=_gather_inputs(0)),
    *[_reduce_spec(r, inc, _REDUCE_SHAPES) for r in ("sum", "prod", "mean", "amax", "amin")
      for inc in (True, False)],
    OpSpec("index_select", lambda x, i: nl.index_select(x, 1, i),
           lambda x, i: torch.index_select(x, 1, i), [((3, 4),), ((2, 4, 3),), ((1, 4),)],
           make=_vector_index(lambda s: s[0][1], 6)),
    OpSpec("index_select", lambda x, i: x.index_select(0, i),
           lambda x, i: x.index_select(0, i), [((4, 3),), ((4,),)],
           make=_vector_index(lambda s: s[0][0], 0)),
    OpSpec("index_add", lambda x, i, s: nl.index_add(x, 1, i, s, alpha=2.0),
           lambda x, i, s: torch.index_add(x, 1, i, s, alpha=2.0),
           [((3, 4), (3, 6)), ((1, 2), (1, 6))], make=_vector_index(lambda s: s[0][1], 6)),
    OpSpec("index_add", lambda x, i, s: x.index_add(0, i, s),
           lambda x, i, s: x.index_add(0, i, s), [((4,), (6,))],
           make=_vector_index(lambda s: s[0][0], 6)),
    OpSpec("index_copy", lambda x, i, s: nl.index_copy(x, 0, i, s),
           lambda x, i, s: torch.index_copy(x, 0, i, s), [((4, 3), (2, 3))],
           make=lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]), np.array([3, 1]),
                                     rng.uniform(-2, 2, shapes[1])]),
    OpSpec("index_fill", lambda x, i: nl.index_fill(x, 1, i, -1.0),
           lambda x, i: torch.index_fill(x, 1, i, -1.0), [((3, 4),), ((2, 4, 2),)],
           make=_vector_index(lambda s: s[0][1], 3)),
    OpSpec("masked_fill", lambda x, m: nl.masked_fill(x, m, 0.5),
           lambda x, m: torch.masked_fill(x, m, 0.5),
           [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((), ()), ((0, 3), (3,))],
           make=_mask_inputs),
    OpSpec("masked_fill", lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: x.masked_fill(m, v),
           [((3, 4), (3, 4), ())], make=_mask_inputs),
    OpSpec("masked_select", nl.masked_select, torch.masked_select,
           [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((), ()), ((0,), (0,))],
           make=_mask_inputs),
    OpSpec("masked_scatter", nl.masked_scatter, torch.masked_scatter,
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (20,)), ((2,), (2,), (2,))],
           make=_mask_inputs),
    OpSpec("take", nl.take, torch.take, [((3, 4),), ((5,),), ((),)],
           make=lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]),
                                     rng.integers(-int(np.prod(shapes[0])),
                                                  int(np.prod(shapes[0])), size=(2, 3))]),
    OpSpec("take_along_dim", lambda x, i: nl.take_along_dim(x, i, 1),
           lambda x, i: torch.take_along_dim(x, i, 1), [((3, 4), (3, 5)), ((3, 4), (1, 2))],
           make=_gather_inputs(1)),
    OpSpec("take_along_dim", lambda x, i: nl.take_along_dim(x, i),
           lambda x, i: torch.take_along_dim(x, i), [((3, 4), (5,))],
           make=lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]),
                                     rng.integers(0, 12, size=shapes[1])]),
]

# Index-valued results: no gradient; compared with PyTorch on values, shapes and dtypes.
_INT = dict(gradcheck=False, grad_inputs=())


def _ints(rng, shapes):
    return [rng.integers(0, 3, size=s) for s in shapes]


def _sparse(rng, shapes):
    return [rng.uniform(-1, 1, s) * (rng.random(s) > 0.5) for s in shapes]


SPECS += [
    OpSpec("nonzero", nl.nonzero, torch.nonzero, [((3, 4),), ((5,),), ((),), ((0, 2),)],
           make=_sparse, **_INT),
    OpSpec("nonzero", lambda x: nl.nonzero(x, as_tuple=True),
           lambda x: torch.nonzero(x, as_tuple=True), [((3, 4),), ((),)], make=_sparse, **_INT),
    OpSpec("argwhere", nl.argwhere, torch.argwhere, [((2, 3, 2),), ((),)], make=_sparse, **_INT),
    OpSpec("unique", lambda x: nl.unique(x, return_inverse=True, return_counts=True),
           lambda x: torch.unique(x, return_inverse=True, return_counts=True),
           [((3, 4),), ((5,),), ((0,),)], make=_ints, **_INT),
    OpSpec("unique", nl.unique, torch.unique, [((7,),)], make=_ints, **_INT),
    OpSpec("unique", lambda x: nl.unique(x, dim=0, return_inverse=True),
           lambda x: torch.unique(x, dim=0, return_inverse=True), [((5, 2),)],
           make=lambda rng, shapes: [rng.integers(0, 2, size=s) for s in shapes], **_INT),
    OpSpec("bincount", nl.bincount, torch.bincount, [((6,),), ((0,),)], make=_ints, **_INT),
    OpSpec("bincount", lambda x, w: nl.bincount(x, w, minlength=5),
           lambda x, w: torch.bincount(x, w, minlength=5), [((6,), (6,))],
           make=lambda rng, shapes: [rng.integers(0, 3, size=shapes[0]),
                                     rng.uniform(0, 1, shapes[1])], **_INT),
    OpSpec("searchsorted", nl.searchsorted, torch.searchsorted, [((5,), (3, 2)), ((5,), ()),
                                                                  ((2, 4), (2, 3))],
           make=lambda rng, shapes: [np.sort(rng.integers(0, 6, size=shapes[0]), axis=-1),
                                     rng.integers(0, 6, size=shapes[1])], **_INT),
    OpSpec("searchsorted", lambda s, v: nl.searchsorted(s, v, right=True),
           lambda s, v: torch.searchsorted(s, v, right=True), [((5,), (4,)), ((2, 4), (2, 3))],
           make=lambda rng, shapes: [np.sort(rng.integers(0, 6, size=shapes[0]), axis=-1),
                                     rng.integers(0, 6, size=shapes[1])], **_INT),
    OpSpec("bucketize", nl.bucketize, torch.bucketize, [((3, 2), (4,))],
           make=lambda rng, shapes: [rng.integers(0, 6, size=shapes[0]),
                                     np.array([1, 2, 4, 5])], **_INT),
    OpSpec("bucketize", lambda x, b: nl.bucketize(x, b, right=True),
           lambda x, b: torch.bucketize(x, b, right=True), [((5,), (4,))],
           make=lambda rng, shapes: [rng.integers(0, 6, size=shapes[0]),
                                     np.array([1, 2, 4, 5])], **_INT),
]

SPECS += [
    OpSpec("where", lambda x: nl.where(x), lambda x: torch.where(x), [((3, 4),), ((),), ((0,),)],
           make=_sparse, **_INT),
]


def _put_inputs(accumulate_repeats):
    def make(rng, shapes):
        n = int(np.prod(shapes[0]))
        index = rng.integers(-n, n, size=shapes[1]) if accumulate_repeats else \
            rng.permutation(n)[:int(np.prod(shapes[1]))].reshape(shapes[1])
        return [rng.uniform(-2, 2, shapes[0]), index, rng.uniform(-2, 2, shapes[1])]
    return make


def _index_reduce_spec(reduce, include_self):
    return OpSpec(
        "index_reduce",
        lambda x, i, s: nl.index_reduce(x, 1, i, s, reduce, include_self=include_self),
        lambda x, i, s: torch.index_reduce(x, 1, i, s, reduce, include_self=include_self),
        [((3, 4), (3, 5)), ((2, 3), (2, 2))],
        make=lambda rng, shapes: [_distinct(rng, shapes[0]),
                                  rng.integers(0, shapes[0][1], size=shapes[1][1]),
                                  _distinct(rng, shapes[1]) + 0.05])


SPECS += [
    OpSpec("put", nl.put, torch.put, [((3, 4), (5,)), ((6,), (2, 2))],
           make=_put_inputs(False)),
    OpSpec("put", lambda x, i, s: x.put(i, s, accumulate=True),
           lambda x, i, s: x.put(i, s, accumulate=True), [((3, 4), (7,))],
           make=_put_inputs(True)),
    *[_index_reduce_spec(r, inc) for r in ("prod", "mean", "amax", "amin")
      for inc in (True, False)],
    OpSpec("unique_consecutive",
           lambda x: nl.unique_consecutive(x, return_inverse=True, return_counts=True),
           lambda x: torch.unique_consecutive(x, return_inverse=True, return_counts=True),
           [((8,),), ((3, 4),), ((0,),)], make=_ints, **_INT),
    OpSpec("unique_consecutive", lambda x: nl.unique_consecutive(x, dim=0, return_counts=True),
           lambda x: torch.unique_consecutive(x, dim=0, return_counts=True), [((5, 2),)],
           make=lambda rng, shapes: [np.repeat(rng.integers(0, 2, size=(3, 2)), [2, 1, 2], 0)],
           **_INT),
]
