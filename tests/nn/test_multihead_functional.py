"""F.multi_head_attention_forward beyond its op specs (tests/ops/specs/multihead.py): dropout
(training flag, p = 1), nn.MultiheadAttention's is_causal path against PyTorch's module, and bad
input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

L, S, N, E, H = 3, 5, 2, 4, 2


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, s) for s in ((L, N, E), (S, N, E), (S, N, E), (3 * E, E),
                                               (3 * E,), (E, E), (E,))]
    return arrays


def _call(f, arrays, convert, **kw):
    q, k, v, w, b, wo, bo = (convert(a) for a in arrays)
    return f(q, k, v, E, H, w, b, None, None, False, kw.pop("dropout_p", 0.0), wo, bo, **kw)


@pytest.mark.parametrize("need_weights", [True, False])
def test_dropout_follows_training_flag_and_p1_like_torch(need_weights):
    arrays = _inputs()
    for kw in (dict(dropout_p=0.7, training=False), dict(dropout_p=1.0, training=True)):
        out, weights = _call(F.multi_head_attention_forward, arrays, nl.tensor,
                             need_weights=need_weights, **kw)
        t_out, t_weights = _call(torch.nn.functional.multi_head_attention_forward, arrays,
                                 torch.tensor, need_weights=need_weights, **kw)
        np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-10, atol=1e-12)
        if need_weights:
            np.testing.assert_allclose(weights.numpy(), t_weights.numpy(), atol=1e-12)
        else:
            assert weights is None and t_weights is None
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(arrays[-1], (L, N, E)))


def test_dropout_is_random_while_training():
    arrays = _inputs()
    nl.manual_seed(0)
    out, weights = _call(F.multi_head_attention_forward, arrays, nl.tensor, dropout_p=0.5)
    w = weights.numpy()
    assert np.any(w == 0)  # dropped weights (averaged over heads: both dropped)
    ref, _ = _call(F.multi_head_attention_forward, arrays, nl.tensor)
    assert not np.allclose(out.numpy(), ref.numpy())


def test_module_is_causal_matches_torch():
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    m = nn.MultiheadAttention(E, H, batch_first=True, dtype=nl.float64)
    m.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(1).uniform(-1, 1, (N, L, E))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    xs, tx = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, _ = m(xs, xs, xs, attn_mask=nl.tensor(mask.numpy()), is_causal=True, need_weights=False)
    t_out, _ = tm(tx, tx, tx, attn_mask=mask, is_causal=True, need_weights=False)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.in_proj_weight.grad.numpy(), tm.in_proj_weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


def z(*shape):
    return nl.zeros(*shape, dtype=nl.float64)


def _bad(**kw):
    q, k, v, w, b, wo, bo = (nl.tensor(a) for a in _inputs())
    args = dict(query=q, key=k, value=v, embed_dim_to_check=E, num_heads=H, in_proj_weight=w,
                in_proj_bias=b, bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
                out_proj_weight=wo, out_proj_bias=bo)
    args.update(kw)
    F.multi_head_attention_forward(**args)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(embed_dim_to_check=6), "embedding dimension 6"),
    (dict(num_heads=3), "divisible by num_heads"),
    (dict(num_heads=0), "num_heads must be a positive integer"),
    (dict(dropout_p=1.5), "dropout_p must be a probability"),
    (dict(in_proj_weight=None), "in_proj_weight is None"),
    (dict(in_proj_weight=z(3 * E, E + 1)), "in_proj_weight must have shape"),
    (dict(in_proj_bias=z(E)), "in_proj_bias must have shape"),
    (dict(use_separate_proj_weight=True), "q_proj_weight, k_proj_weight or v_proj_weight"),
    (dict(bias_k=z(1, 1, E)), "bias_k and bias_v must be given together"),
    (dict(bias_k=z(1, 1, E), bias_v=z(1, 1, E), static_k=z(N * H, S, 2)),
     "cannot be added to static_k"),
    (dict(static_k=z(N * H, S, 3)), r"static_k must have shape \(N·num_heads, S"),
    (dict(static_k=z(N * H, S + 1, 2)), "same sequence length"),
    (dict(key=z(S, N, E + 1)), "key of embedding dimension 4"),
    (dict(value=z(S + 1, N, E)), "same sequence length"),
    (dict(key=z(S, E), value=z(S, E)), "3-d"),
    (dict(attn_mask=z(L, S + 1)), "attn_mask must have shape"),
    (dict(key_padding_mask=nl.zeros(N, S + 1, dtype=nl.bool)), "key_padding_mask must have"),
    (dict(attn_mask=nl.zeros(L, S, dtype=nl.int64)), "bool tensor"),
    (dict(is_causal=True), "pass attn_mask"),
])
def test_bad_input_is_explained(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _bad(**kwargs)
