"""Specs of scaled dot-product attention: softmax(Q Kᵀ · scale + M) V against PyTorch's, with
float masks (differentiated), bool masks (one query with every key masked: output 0), the causal
mask, a custom scale, broadcast batch dimensions, unbatched inputs and grouped-query attention.
Random dropout has no PyTorch twin: its gradcheck reseeds the generator inside ``fn``."""

import numpy as np
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _seeded(fn):
    def run(*args):
        nl.manual_seed(3)
        return fn(*args)

    return run


def _with_bool_mask(rng, shapes):
    q, k, v, m = shapes
    mask = rng.random(m) < 0.7
    mask[..., 1, :] = False  # query 1 may attend to nothing: PyTorch's output there is 0
    mask[..., 0, 0] = True
    return [rng.uniform(-2, 2, q), rng.uniform(-2, 2, k), rng.uniform(-2, 2, v), mask]


def _with_float_mask(rng, shapes):
    q, k, v, m = shapes
    mask = rng.uniform(-2, 2, m)
    mask[..., 0, -1] = -np.inf  # a removed key; its gradient is 0
    return [rng.uniform(-2, 2, q), rng.uniform(-2, 2, k), rng.uniform(-2, 2, v), mask]


sdpa, ref = F.scaled_dot_product_attention, TF.scaled_dot_product_attention

SPECS = [
    OpSpec("scaled_dot_product_attention", sdpa, ref,
           [((2, 3, 4), (2, 5, 4), (2, 5, 6)), ((3, 4), (5, 4), (5, 2)),
            ((2, 2, 3, 4), (2, 5, 4), (1, 2, 5, 4))]),  # batched, unbatched, broadcast batch
    OpSpec("scaled_dot_product_attention", lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
           lambda q, k, v, m: ref(q, k, v, attn_mask=m),
           [((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (3, 5)),
            ((2, 3, 4), (2, 5, 4), (2, 5, 3), (2, 3, 5))], make=_with_float_mask),
    OpSpec("scaled_dot_product_attention", lambda q, k, v, m: sdpa(q, k, v, m),
           lambda q, k, v, m: ref(q, k, v, m),
           [((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)),
            ((2, 2, 3, 4), (2, 2, 4, 4), (2, 2, 4, 3), (2, 1, 3, 4))], make=_with_bool_mask),
    OpSpec("scaled_dot_product_attention",
           lambda q, k, v: sdpa(q, k, v, is_causal=True, scale=0.7),
           lambda q, k, v: ref(q, k, v, is_causal=True, scale=0.7),
           [((2, 4, 3), (2, 4, 3), (2, 4, 5)), ((3, 3), (5, 3), (5, 2))]),  # L = S and L < S
    OpSpec("scaled_dot_product_attention",
           lambda q, k, v: sdpa(q, k, v, enable_gqa=True),
           lambda q, k, v: ref(q, k, v, enable_gqa=True),
           [((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))]),
    OpSpec("scaled_dot_product_attention", lambda q, k, v: sdpa(q, k, v, dropout_p=1.0),
           lambda q, k, v: ref(q, k, v, dropout_p=1.0),
           [((2, 3, 4), (2, 5, 4), (2, 5, 6))]),
    OpSpec("scaled_dot_product_attention", _seeded(lambda q, k, v: sdpa(q, k, v, dropout_p=0.4)),
           None, [((2, 3, 4), (2, 5, 4), (2, 5, 6))],
           no_ref_reason="the dropout mask is random: neuralab's generator differs from "
                         "PyTorch's"),
]
