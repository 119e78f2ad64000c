"""Specs of ops/extras.py: i0, gradient, histogram, renorm, norms, split aliases, convolution,
nextafter, as_strided."""

import numpy as np
import torch

import neuralab as nl
from tests.ops.specs import OpSpec


def _no_grad(name, ours, ref, shapes, make=None, **kw):
    return OpSpec(name, ours, ref, shapes, make=make, gradcheck=False, grad_inputs=(), **kw)


def _increasing(rng, shapes):
    """Samples and strictly increasing, unevenly spaced coordinates."""
    out = [rng.uniform(-2, 2, shapes[0])]
    for s in shapes[1:]:
        out.append(np.cumsum(rng.uniform(0.3, 1.0, s)))
    return out


def _floats32(rng, shapes):
    return [rng.uniform(-1.5, 2.5, s).astype(np.float32) for s in shapes]


def _binomial_count(rng, shapes):
    return [rng.integers(0, 5, shapes[0]).astype(np.float64), rng.uniform(0, 1, shapes[1])]


SPECS = [
    OpSpec("i0", nl.i0, torch.i0, [((3, 4),), ((),)], low=-6, high=6),
    OpSpec("i0", lambda x: x.i0(), lambda x: x.i0(), [((5,),)], low=-12, high=12, rtol=1e-10),
    _no_grad("i0", nl.i0, torch.i0, [((4,),)], lambda rng, s: [rng.integers(-5, 6, s[0])]),
    # gradient: uniform and per-dim spacings, coordinates, dims, edge orders
    OpSpec("gradient", nl.gradient, torch.gradient, [((5,),), ((3, 4),), ((2,),)]),
    OpSpec("gradient", lambda f: nl.gradient(f, spacing=0.5, dim=1, edge_order=2),
           lambda f: torch.gradient(f, spacing=0.5, dim=1, edge_order=2), [((2, 5),), ((3, 3),)]),
    OpSpec("gradient", lambda f: nl.gradient(f, spacing=[2.0, 0.5], edge_order=2),
           lambda f: torch.gradient(f, spacing=[2.0, 0.5], edge_order=2), [((4, 3),)]),
    OpSpec("gradient", lambda f: nl.gradient(f, dim=(-1, 0)),
           lambda f: torch.gradient(f, dim=(-1, 0)), [((4, 3),)]),
    OpSpec("gradient", lambda f, x: nl.gradient(f, spacing=[x], dim=0),
           lambda f, x: torch.gradient(f, spacing=[x], dim=0), [((5, 2), (5,)), ((2,), (2,))],
           make=_increasing),
    OpSpec("gradient", lambda f, x: nl.gradient(f, spacing=[x], dim=1, edge_order=2),
           lambda f, x: torch.gradient(f, spacing=[x], dim=1, edge_order=2),
           [((2, 6), (6,)), ((1, 3), (3,))], make=_increasing),
    _no_grad("gradient", nl.gradient, torch.gradient, [((3, 4),)],
             lambda rng, s: [rng.integers(-5, 6, s[0])]),
    # histogram: bins as a number or edges, range, weights, density
    _no_grad("histogram", lambda x: nl.histogram(x, 6), lambda x: torch.histogram(x, 6),
             [((20,),), ((4, 5),)], _floats32),
    _no_grad("histogram", lambda x, w: nl.histogram(x, 4, range=(-1.0, 2.0), weight=w,
                                                    density=True),
             lambda x, w: torch.histogram(x, 4, range=(-1.0, 2.0), weight=w, density=True),
             [((3, 7), (3, 7))]),
    _no_grad("histogram", lambda x, b: nl.histogram(x, b.sort()[0]),
             lambda x, b: torch.histogram(x, b.sort()[0]), [((30,), (5,))]),
    _no_grad("histogram", lambda x: nl.histogram(x, 3, density=True),
             lambda x: torch.histogram(x, 3, density=True), [((12,),)]),
    # renorm: slices above and below the limit
    OpSpec("renorm", lambda x: nl.renorm(x, 2, 0, 1.5), lambda x: torch.renorm(x, 2, 0, 1.5),
           [((4, 3),), ((3, 2, 2),)]),
    OpSpec("renorm", lambda x: x.renorm(1, 1, 2.0), lambda x: x.renorm(1, 1, 2.0),
           [((3, 4),), ((2, 3, 2),)]),
    OpSpec("renorm", lambda x: x.renorm(3.0, -1, 1.0), lambda x: x.renorm(3.0, -1, 1.0),
           [((3, 4),)]),
    OpSpec("nuclear_norm", nl.nuclear_norm, torch.nuclear_norm, [((3, 4),), ((4, 2),)]),
    OpSpec("nuclear_norm", lambda x: nl.nuclear_norm(x, (0, 2), keepdim=True),
           lambda x: torch.nuclear_norm(x, (0, 2), keepdim=True), [((3, 2, 4),)]),
    OpSpec("frobenius_norm", lambda x: nl.frobenius_norm(x, (0, 1)),
           lambda x: torch.frobenius_norm(x, (0, 1)), [((3, 4),), ((2, 3, 4),)]),
    OpSpec("frobenius_norm", lambda x: nl.frobenius_norm(x, 1, keepdim=True),
           lambda x: torch.frobenius_norm(x, 1, keepdim=True), [((3, 4),)]),
    OpSpec("binomial", lambda n, p: nl.binomial(n, p).shape, None, [((3,), (3,))],
           make=_binomial_count, gradcheck=False, grad_inputs=(),
           no_ref_reason="random draws; tests/ops/test_extras.py checks their statistics"),
    # splits
    OpSpec("split_with_sizes", lambda x: nl.split_with_sizes(x, [1, 3, 0]),
           lambda x: torch.split_with_sizes(x, [1, 3, 0]), [((4, 2),)]),
    OpSpec("split_with_sizes", lambda x: x.split_with_sizes([2, 1], dim=-1),
           lambda x: x.split_with_sizes([2, 1], dim=-1), [((2, 3),)]),
    OpSpec("unsafe_chunk", lambda x: nl.unsafe_chunk(x, 3, 1),
           lambda x: torch.unsafe_chunk(x, 3, 1), [((2, 7),)]),
    OpSpec("unsafe_split", lambda x: x.unsafe_split(2), lambda x: x.unsafe_split(2), [((5, 2),)]),
    OpSpec("constant_pad_nd", lambda x: nl.constant_pad_nd(x, (1, 2, 0, -1), 0.5),
           lambda x: torch.constant_pad_nd(x, (1, 2, 0, -1), 0.5), [((3, 4),), ((2, 3, 2),)]),
    OpSpec("convolution", lambda x, w, b: nl.convolution(x, w, b, [2], [1], [1], False, [0], 1),
           lambda x, w, b: torch.convolution(x, w, b, [2], [1], [1], False, [0], 1),
           [((2, 3, 7), (4, 3, 3), (4,))]),
    OpSpec("convolution", lambda x, w: nl.convolution(x, w, None, 1, 1, 1, False, 0, 2),
           lambda x, w: torch.convolution(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 2),
           [((1, 4, 5, 5), (2, 2, 3, 3))]),
    OpSpec("convolution", lambda x, w: nl.convolution(x, w, None, 2, 1, 1, True, 1, 1),
           lambda x, w: torch.convolution(x, w, None, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
           [((1, 2, 3, 3), (2, 3, 3, 3))]),
    OpSpec("convolution", lambda x, w: nl.convolution(x, w, None, 1, 0, 1, False, 0, 1),
           lambda x, w: torch.convolution(x, w, None, [1] * 3, [0] * 3, [1] * 3, False, [0] * 3,
                                          1), [((1, 2, 3, 3, 3), (2, 2, 2, 2, 2))]),
    _no_grad("nextafter", nl.nextafter, torch.nextafter, [((3, 4), (3, 4)), ((3, 4), (4,))]),
    _no_grad("nextafter", lambda x, y: x.nextafter(y), lambda x, y: x.nextafter(y),
             [((5,), (5,))], _floats32),
    OpSpec("as_strided", lambda x: nl.as_strided(x, (2, 2), (1, 2)),
           lambda x: torch.as_strided(x, (2, 2), (1, 2)), [((3, 4),), ((5,),)]),
    OpSpec("as_strided", lambda x: x.as_strided((3, 3), (2, 1), 1),  # overlapping windows
           lambda x: x.as_strided((3, 3), (2, 1), 1), [((10,),), ((2, 4),)]),
    OpSpec("as_strided", lambda x: nl.as_strided(x, (2, 0), (0, 1)),
           lambda x: torch.as_strided(x, (2, 0), (0, 1)), [((3,),)]),
    # the Tensor methods of ops defined in other families
    OpSpec("dsplit", lambda x: x.dsplit(2), lambda x: x.dsplit(2), [((2, 3, 4),)]),
    OpSpec("select_scatter", lambda x, s: x.select_scatter(s, 1, -1),
           lambda x, s: x.select_scatter(s, 1, -1), [((3, 4), (3,))]),
    OpSpec("slice_scatter", lambda x, s: x.slice_scatter(s, 1, 0, 4, 2),
           lambda x, s: x.slice_scatter(s, 1, 0, 4, 2), [((3, 5), (3, 2))]),
    OpSpec("diagonal_scatter", lambda x, s: x.diagonal_scatter(s, 1),
           lambda x, s: x.diagonal_scatter(s, 1), [((3, 4), (3,))]),
]
