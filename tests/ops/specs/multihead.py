"""Specs of ``multi_head_attention_forward`` against ``torch.nn.functional``'s: stacked and
separate projections, learned bias_k/bias_v, zero attention, float and bool masks, key padding,
static keys and values, per-head weights, the is_causal path (the causal mask replaces attn_mask)
and unbatched inputs. Every floating input (projections, biases, masks) is differentiated."""

import numpy as np
import torch.nn.functional as TF

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec

ours, ref = F.multi_head_attention_forward, TF.multi_head_attention_forward
H = 2  # heads; E = 4 in every case (head_dim 2)


def stacked(f, **kw):
    """q, k, v, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias."""
    return lambda q, k, v, w, b, wo, bo: f(q, k, v, 4, H, w, b, None, None, False, 0.0, wo, bo,
                                           **kw)


def separate(f, **kw):
    """q, k, v, W_q, W_k, W_v, in_proj_bias, bias_k, bias_v, out_proj_weight, out_proj_bias,
    attn_mask (float, added to the scores)."""
    def run(q, k, v, wq, wk, wv, b, bk, bv, wo, bo, mask):
        return f(q, k, v, 4, H, None, b, bk, bv, True, 0.0, wo, bo, attn_mask=mask,
                 use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
                 v_proj_weight=wv, **kw)
    return run


def padded(f, **kw):
    """q, k, v, in_proj_weight, out_proj_weight, key_padding_mask (bool), attn_mask (bool)."""
    return lambda q, k, v, w, wo, kpm, am: f(q, k, v, 4, H, w, None, None, None, False, 0.0, wo,
                                             None, key_padding_mask=kpm, attn_mask=am, **kw)


def static(f, **kw):
    """q, k, v, in_proj_weight, in_proj_bias, out_proj_weight, static_k, static_v."""
    return lambda q, k, v, w, b, wo, sk, sv: f(q, k, v, 4, H, w, b, None, None, False, 0.0, wo,
                                               None, static_k=sk, static_v=sv, **kw)


def causal(f, **kw):
    """q, k, v, in_proj_weight, out_proj_weight, attn_mask (float, the causal mask)."""
    return lambda q, k, v, w, wo, m: f(q, k, v, 4, H, w, None, None, None, False, 0.0, wo, None,
                                       attn_mask=m, is_causal=True, **kw)


def output_only(fn):
    """need_weights=False: the weights are None; the harness compares the output alone."""
    return lambda *args: fn(*args)[0]


def _padding(rng, shapes):
    *floats, kpm, am = shapes
    arrays = [rng.uniform(-1, 1, s) for s in floats]
    key_padding = np.zeros(kpm, dtype=bool)
    key_padding[..., -1] = True  # the last key of every sequence is padding
    if len(kpm) == 2:
        key_padding[1, 0] = True  # and the first key of example 1
    mask = rng.random(am) < 0.3
    mask[..., 1] = False  # every query keeps key 1 (never padding)
    return arrays + [key_padding, mask]


def _causal(rng, shapes):
    *floats, m = shapes
    arrays = [rng.uniform(-1, 1, s) for s in floats]
    return arrays + [np.where(np.triu(np.ones(m, dtype=bool), 1), -np.inf, 0.0)]


BASE = [((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,)),
        ((3, 4), (5, 4), (5, 4), (12, 4), (12,), (4, 4), (4,)),  # unbatched
        ((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (6, 4), (6,))]  # out_proj 4 -> 6
SEPARATE = [((3, 2, 4), (5, 2, 3), (5, 2, 6), (4, 4), (4, 3), (4, 6), (12,), (1, 1, 4),
             (1, 1, 4), (4, 4), (4,), (3, 5)),
            ((3, 2, 4), (5, 2, 3), (5, 2, 6), (4, 4), (4, 3), (4, 6), (12,), (1, 1, 4),
             (1, 1, 4), (4, 4), (4,), (4, 3, 5))]  # attn_mask (N·H, L, S)

SPECS = [
    OpSpec("multi_head_attention_forward", stacked(ours), stacked(ref), BASE, low=-1, high=1),
    OpSpec("multi_head_attention_forward", stacked(ours, average_attn_weights=False),
           stacked(ref, average_attn_weights=False), BASE[:1], low=-1, high=1),
    OpSpec("multi_head_attention_forward", output_only(stacked(ours, need_weights=False)),
           output_only(stacked(ref, need_weights=False)), BASE[:2], low=-1, high=1),
    OpSpec("multi_head_attention_forward", separate(ours), separate(ref), SEPARATE, low=-1,
           high=1),
    OpSpec("multi_head_attention_forward", output_only(separate(ours, need_weights=False)),
           output_only(separate(ref, need_weights=False)), SEPARATE[:1], low=-1, high=1),
    OpSpec("multi_head_attention_forward", padded(ours), padded(ref),
           [((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (4, 4), (2, 5), (3, 5)),
            ((3, 4), (5, 4), (5, 4), (12, 4), (4, 4), (5,), (2, 3, 5))], make=_padding),
    OpSpec("multi_head_attention_forward", output_only(padded(ours, need_weights=False)),
           output_only(padded(ref, need_weights=False)),
           [((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (4, 4), (2, 5), (4, 3, 5))],
           make=_padding),
    OpSpec("multi_head_attention_forward", static(ours), static(ref),
           [((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4, 6, 2), (4, 6, 2))],
           low=-1, high=1),
    OpSpec("multi_head_attention_forward", output_only(causal(ours, need_weights=False)),
           output_only(causal(ref, need_weights=False)),
           [((4, 2, 4), (4, 2, 4), (4, 2, 4), (12, 4), (4, 4), (4, 4)),
            ((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (4, 4), (3, 5))],
           make=_causal),
    # Without weights or key padding, PyTorch trusts the hint: the causal mask replaces attn_mask
    # (here a random one, which then has no gradient).
    OpSpec("multi_head_attention_forward", output_only(causal(ours, need_weights=False)),
           output_only(causal(ref, need_weights=False)),
           [((4, 2, 4), (4, 2, 4), (4, 2, 4), (12, 4), (4, 4), (4, 4))], low=-1, high=1),
    OpSpec("multi_head_attention_forward", causal(ours), causal(ref),
           [((4, 2, 4), (4, 2, 4), (4, 2, 4), (12, 4), (4, 4), (4, 4))], make=_causal),
]
