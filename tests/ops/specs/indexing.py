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

# PyTorch's rule: ints are basic indices, so tensors separated from each other only by ints stay
# adjacent and their dimensions stay in place (NumPy would move them first).
_D = np.array([[0, 1], [2, 3]])
SPECS += [
    OpSpec("getitem", lambda x: x[1, :, 3:11:2, nl.tensor(_D), 0:2],
           lambda x: x[1, :, 3:11:2, torch.tensor(_D), 0:2], [((2, 3, 12, 5, 6),)]),
    OpSpec("getitem", lambda x: x[nl.tensor(1), :, 1:4:2, nl.tensor(_D)],
           lambda x: x[torch.tensor(1), :, 1:4:2, torch.tensor(_D)], [((2, 3, 5, 4),)]),
    OpSpec("getitem", lambda x: x[:, nl.tensor(_D), 1, nl.tensor(_D)],
           lambda x: x[:, torch.tensor(_D), 1, torch.tensor(_D)], [((2, 4, 3, 5),)]),
    OpSpec("getitem", lambda x: x[1, [0, 2], :, [1, 1]], lambda x: x[1, [0, 2], :, [1, 1]],
           [((2, 3, 4, 2),)]),
    OpSpec("getitem", lambda x: x[nl.tensor(_D), None, nl.tensor(_D)],
           lambda x: x[torch.tensor(_D), None, torch.tensor(_D)], [((4, 4, 3),)]),
    OpSpec("getitem", lambda x: x[None, 1, ..., True], lambda x: x[None, 1, ..., True],
           [((3, 4, 2),)]),
    OpSpec("getitem", lambda x: x[0, np.array([True, False, True]), 1],
           lambda x: x[0, torch.tensor([True, False, True]), 1], [((2, 3, 4),)]),
    OpSpec("getitem", lambda x: x[nl.tensor([], dtype=nl.int64)],
           lambda x: x[torch.tensor([], dtype=torch.long)], [((3, 2),)]),
    OpSpec("getitem", lambda x: x[..., nl.tensor(2)], lambda x: x[..., torch.tensor(2)],
           [((2, 3),)]),
    OpSpec("getitem", lambda x: x[1:0], lambda x: x[1:0], [((3, 2),)]),
    OpSpec("index_put", lambda x, v: nl.index_put(x, (nl.tensor([0, 2]),), v),
           lambda x, v: torch.index_put(x, (torch.tensor([0, 2]),), v), [((3, 4), (4,)),
                                                                        ((3, 4), (2, 4))]),
    OpSpec("index_put", lambda x, v: nl.index_put(x, (nl.tensor([0, 2, 0]), nl.tensor([1, 1, 1])),
                                                  v, accumulate=True),
           lambda x, v: torch.index_put(x, (torch.tensor([0, 2, 0]), torch.tensor([1, 1, 1])), v,
                                        accumulate=True), [((3, 4), (3,)), ((3, 4), ())]),
]
