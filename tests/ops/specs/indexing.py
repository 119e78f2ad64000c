"""Specs of indexing (``x[index]``): basic, advanced (integer arrays) and boolean masks."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec


def _index_spec(index, shapes, ours=None, theirs=None):
    """x[index] on both sides; ``ours``/``theirs`` adapt an index that differs by library."""
    ours = index if ours is None else ours
    theirs = index if theirs is None else theirs
    return OpSpec("getitem", lambda x: x[ours], lambda x: x[theirs], shapes)


def _with_mask(rng, shapes):
    x = rng.uniform(-2, 2, shapes[0])
    mask = rng.random(shapes[1]) > 0.4
    return [x, mask]


def _with_ids(rng, shapes):
    """Integer indices with repeats (as word ids into an embedding table)."""
    return [rng.uniform(-2, 2, shapes[0]), rng.integers(0, shapes[0][0], size=shapes[1])]


_ROWS = np.array([0, 2, 2, 1])
SPECS = [
    _index_spec(1, [((3,),), ((3, 4),), ((2, 3, 4),)]),
    _index_spec(-1, [((3, 4),)]),
    _index_spec((1, 2), [((3, 4),)]),
    _index_spec(slice(1, None), [((3,),), ((3, 4),)]),
    _index_spec((slice(None), slice(None, None, 2)), [((3, 5),), ((2, 4, 3),)]),
    _index_spec((slice(1, 3), 0), [((4, 3),)]),
    _index_spec(None, [((),), ((3,),)]),
    _index_spec((Ellipsis, 0), [((3,),), ((2, 3, 4),)]),
    _index_spec((Ellipsis, None, slice(0, 2)), [((3, 4),)]),
    _index_spec((), [((),), ((3,),)]),
    _index_spec([0, 2, 2], [((3,),), ((3, 4),)]),
    _index_spec((slice(None), [3, 0, 3]), [((2, 4),), ((2, 4, 3),)]),
    _index_spec(_ROWS, [((3, 4),)]),
    _index_spec(([0, 1, 1], [2, 0, 2]), [((3, 4),)]),
    _index_spec((np.arange(2)[:, None], [[0, 1, 0]]), [((2, 3),)]),
    _index_spec(([1, 0], slice(None), [2, 2]), [((2, 3, 4),)]),
    _index_spec((0, [1, 1]), [((2, 3, 4),)]),
    _index_spec(np.array([[True, False, True, True], [False, False, True, False]]),
                [((2, 4),), ((2, 4, 3),)]),
    _index_spec(np.array([True, False, True]), [((3,),), ((3, 2),)]),
    _index_spec((slice(None), np.array([False, True, True])), [((2, 3),)]),
    OpSpec("getitem", lambda x, ids: x[ids], lambda x, ids: x[ids],
           [((5, 3), (7,)), ((4,), (2, 3))], make=_with_ids),
    OpSpec("getitem", lambda x, m: x[m], lambda x, m: x[m],
           [((3, 4), (3, 4)), ((3, 4), (3,)), ((4,), (4,))], make=_with_mask),
    OpSpec("getitem", lambda x: x[nl.tensor([1, 1, 0])], lambda x: x[torch.tensor([1, 1, 0])],
           [((2, 3),)]),
    OpSpec("getitem", lambda x: x[range(2), nl.tensor([2, 0])],
           lambda x: x[range(2), torch.tensor([2, 0])], [((2, 3),)]),
]
