"""MultiheadAttention and the Transformer modules against PyTorch's with the same weights (loaded
from PyTorch's state dict by ``interop.load_torch_state_dict``), in float64 and eval mode:
outputs, attention weights and the gradients of every input and parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F
from neuralab.interop import load_torch_state_dict

TOL = dict(rtol=1e-9, atol=1e-11)
pytestmark = pytest.mark.filterwarnings(  # PyTorch's own notes on mask types and nested tensors
    "ignore:.*(is deprecated|enable_nested_tensor).*:UserWarning")
L, S, N, E, H = 4, 5, 3, 8, 2


def _twins(name, *args, **kwargs):
    """The same module in both libraries, ours loaded with torch's (float64) weights."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double().eval()
    with torch.no_grad():  # nonzero biases, so a bias that is ignored shows
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = getattr(nn, name)(*args, **kwargs).double().eval()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd), "state_dict keys must match PyTorch's exactly"
    load_torch_state_dict(ours, sd)
    return ours, theirs


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [nl.tensor(a, dtype=nl.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _mask(m):
    """A mask (ndarray) for both libraries."""
    if m is None:
        return None, None
    return nl.tensor(m, dtype=nl.float64 if m.dtype.kind == "f" else None), torch.tensor(m)


def _compare(ours_out, theirs_out, ours_in, theirs_in, ours, theirs):
    """Values of every output, then the gradients of a random projection of them all."""
    rng = np.random.default_rng(7)
    loss_o, loss_t = 0, 0
    for o, t in zip(ours_out, theirs_out):
        if t is None:
            assert o is None
            continue
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **TOL)
        v = rng.standard_normal(o.shape)
        nan = ~np.isfinite(t.detach().numpy())  # torch's all-masked rows are NaN
        loss_o = loss_o + (o * nl.tensor(v, dtype=nl.float64)).masked_fill(nl.tensor(nan), 0).sum()
        loss_t = loss_t + (t * torch.tensor(v)).masked_fill(torch.tensor(nan), 0).sum()
    loss_o.backward()
    loss_t.backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **TOL,
                                   err_msg=f"gradient of input {i}")
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(p.grad.numpy(), named[name].grad.numpy(), **TOL,
                                   err_msg=f"gradient of {name}")


# ------------------------------------------------------------------------------------------------
# MultiheadAttention

def _padding(n, s, seed=1):
    m = np.random.default_rng(seed).random((n, s)) < 0.3
    m[:, 0] = False  # every sequence keeps one key
    return m


MHA_CASES = {
    "plain": (dict(), dict()),
    "batch_first-no_bias": (dict(batch_first=True, bias=False), dict()),
    "kdim_vdim": (dict(kdim=3, vdim=6), dict()),
    "bias_kv-zero_attn": (dict(add_bias_kv=True, add_zero_attn=True),
                          dict(attn_mask="bool2d", key_padding_mask="bool")),
    "bool_masks": (dict(), dict(attn_mask="bool2d", key_padding_mask="bool")),
    "float_masks-per_head": (dict(batch_first=True), dict(attn_mask="float3d",
                                                          key_padding_mask="float")),
    "weights_per_head": (dict(kdim=3, vdim=6), dict(average_attn_weights=False,
                                                    attn_mask="float2d")),
    "no_weights": (dict(), dict(need_weights=False, key_padding_mask="bool")),
}


def _mha_masks(kind_attn, kind_pad, heads=H):
    rng = np.random.default_rng(2)
    attn = {None: None, "bool2d": rng.random((L, S)) < 0.3,
            "float2d": rng.standard_normal((L, S)),
            "float3d": rng.standard_normal((N * heads, L, S))}[kind_attn]
    if attn is not None and attn.dtype == bool:
        attn[:, 0] = False
    pad = {None: None, "bool": _padding(N, S)}.get(kind_pad)
    if kind_pad == "float":
        pad = np.where(_padding(N, S), -np.inf, rng.standard_normal((N, S)))
    return attn, pad


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case):
    kwargs, call = MHA_CASES[case]
    call = dict(call)
    ours, theirs = _twins("MultiheadAttention", E, H, dropout=0.3, **kwargs)
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    bf = kwargs.get("batch_first", False)
    shapes = [(N, L, E), (N, S, kdim), (N, S, vdim)] if bf else \
        [(L, N, E), (S, N, kdim), (S, N, vdim)]
    o_in, t_in = _inputs(*shapes)
    attn, pad = _mha_masks(call.pop("attn_mask", None), call.pop("key_padding_mask", None))
    (oa, ta), (op, tp) = _mask(attn), _mask(pad)
    o_out = ours(*o_in, attn_mask=oa, key_padding_mask=op, **call)
    t_out = theirs(*t_in, attn_mask=ta, key_padding_mask=tp, **call)
    _compare(o_out, t_out, o_in, t_in, ours, theirs)


def test_multihead_attention_self_attention_unbatched():
    ours, theirs = _twins("MultiheadAttention", E, H, add_bias_kv=True)
    (ox,), (tx,) = _inputs((L, E))
    attn = np.random.default_rng(3).standard_normal((H, L, L))
    pad = np.array([False, True, False, False])
    (oa, ta), (op, tp) = _mask(attn), _mask(pad)
    o_out = ours(ox, ox, ox, attn_mask=oa, key_padding_mask=op, average_attn_weights=False)
    t_out = theirs(tx, tx, tx, attn_mask=ta, key_padding_mask=tp, average_attn_weights=False)
    _compare(o_out, t_out, [ox], [tx], ours, theirs)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_all_keys_masked(need_weights):
    """A query that may attend to nothing: NaN when the weights are returned (the plain
    softmax), 0 otherwise (scaled_dot_product_attention's), as PyTorch."""
    ours, theirs = _twins("MultiheadAttention", E, H)
    o_in, t_in = _inputs((L, N, E), (S, N, E), (S, N, E))
    attn = np.zeros((L, S), dtype=bool)
    attn[1] = True
    (oa, ta) = _mask(attn)
    o_out = ours(*o_in, attn_mask=oa, need_weights=need_weights)
    t_out = theirs(*t_in, attn_mask=ta, need_weights=need_weights)
    assert np.isnan(t_out[0].detach().numpy()[1]).all() == need_weights
    _compare(o_out, t_out, o_in, t_in, ours, theirs)


def test_multihead_attention_dropout_trains_and_evaluates():
    """While training, each weight is dropped or scaled by 1/(1 − p); in eval mode none is."""
    mha = nn.MultiheadAttention(E, H, dropout=0.5).double()
    x = nl.tensor(np.random.default_rng(0).standard_normal((L, N, E)), dtype=nl.float64)
    nl.manual_seed(0)
    out_train, w_train = mha(x, x, x, average_attn_weights=False)
    mha.eval()
    out_eval, w_eval = mha(x, x, x, average_attn_weights=False)
    dropped, kept = w_train.numpy(), w_train.numpy() > 0
    assert 0.2 < kept.mean() < 0.8
    np.testing.assert_allclose(dropped[kept], 2 * w_eval.numpy()[kept], rtol=1e-12)
    np.testing.assert_allclose(w_eval.numpy().sum(-1), 1.0, rtol=1e-12)
    assert not np.allclose(out_train.numpy(), out_eval.numpy())


def test_multihead_attention_init_as_torch():
    mha = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert mha.in_proj_weight.shape == (48, 16) and mha.in_proj_weight.dtype == np.float32
    bound = np.sqrt(6 / (16 + 48))  # Xavier-uniform over (3E, E)
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    assert mha.in_proj_weight.numpy().std() > bound / 3
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    assert mha.bias_k.shape == (1, 1, 16) and mha.bias_k.numpy().any()
    assert mha.q_proj_weight is None and mha.head_dim == 4
    split = nn.MultiheadAttention(16, 4, kdim=5, vdim=7, bias=False)
    assert split.in_proj_weight is None and split.in_proj_bias is None
    assert split.k_proj_weight.shape == (16, 5) and split.v_proj_weight.shape == (16, 7)
    assert split.out_proj.bias is None


@pytest.mark.parametrize(("build", "call", "message"), [
    (dict(embed_dim=10, num_heads=3), None, "divisible by num_heads"),
    (dict(embed_dim=8, num_heads=2, dropout=1.5), None, "dropout must be"),
    (dict(embed_dim=8, num_heads=2), dict(q=(L, N, 6)), "embedding dimension 8"),
    (dict(embed_dim=8, num_heads=2), dict(k=(S, N)), "3-d"),
    (dict(embed_dim=8, num_heads=2), dict(v=(S + 1, N, E)), "same sequence length"),
    (dict(embed_dim=8, num_heads=2), dict(attn_mask=(L, S + 1)), "attn_mask must have shape"),
    (dict(embed_dim=8, num_heads=2), dict(pad=(S, N)), "key_padding_mask must have shape"),
    (dict(embed_dim=8, num_heads=2), dict(attn_int=True), "bool tensor"),
    (dict(embed_dim=8, num_heads=2), dict(is_causal=True), "pass attn_mask"),
])
def test_multihead_attention_bad_input(build, call, message):
    if call is None:
        with pytest.raises(ValueError, match=message):
            nn.MultiheadAttention(**build)
        return
    mha = nn.MultiheadAttention(**build)
    q, k, v = (nl.randn(*call.get(n, d)) for n, d in
               (("q", (L, N, E)), ("k", (S, N, E)), ("v", (S, N, E))))
    kwargs = {}
    if "attn_mask" in call:
        kwargs["attn_mask"] = nl.zeros(*call["attn_mask"])
    if "pad" in call:
        kwargs["key_padding_mask"] = nl.zeros(*call["pad"], dtype=nl.bool)
    if "attn_int" in call:
        kwargs["attn_mask"] = nl.zeros(L, S, dtype=nl.int64)
    if "is_causal" in call:
        kwargs["is_causal"] = True
    with pytest.raises((ValueError, TypeError), match=message):
        mha(q, k, v, **kwargs)


# ------------------------------------------------------------------------------------------------
# scaled_dot_product_attention's errors (its values and gradients: tests/ops/specs/attention.py)

@pytest.mark.parametrize(("shapes", "kwargs", "error", "message"), [
    (((3, 4), (5, 3), (5, 2)), {}, ValueError, "same embedding size"),
    (((3, 4), (5, 4), (6, 2)), {}, ValueError, "same sequence length"),
    (((4,), (4,), (4,)), {}, ValueError, "at least 2-d"),
    (((2, 3, 4), (3, 5, 4), (3, 5, 2)), {}, ValueError, "batch dimensions"),
    (((3, 4), (5, 4), (5, 2)), dict(attn_mask=(4, 5)), ValueError, "does not broadcast"),
    (((3, 4), (5, 4), (5, 2)), dict(attn_mask=(3, 5), is_causal=True), RuntimeError,
     "is_causal"),
    (((3, 4), (5, 4), (5, 2)), dict(dropout_p=1.5), RuntimeError, "between 0 and 1"),
    (((2, 4, 3, 4), (2, 3, 5, 4), (2, 3, 5, 4)), dict(enable_gqa=True), ValueError,
     "enable_gqa"),
])
def test_sdpa_bad_input(shapes, kwargs, error, message):
    q, k, v = (nl.randn(*s) for s in shapes)
    if "attn_mask" in kwargs:
        kwargs["attn_mask"] = nl.zeros(*kwargs["attn_mask"])
    with pytest.raises(error, match=message):
        F.scaled_dot_product_attention(q, k, v, **kwargs)


def test_sdpa_bad_dtypes():
    q = nl.randn(3, 4)
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(TypeError, match="floating-point"):
        F.scaled_dot_product_attention(q.long(), q, q)
    with pytest.raises(TypeError, match="bool tensor"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=nl.zeros(3, 3, dtype=nl.int64))
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q, q, q, None, 0.0, False, 0.5)  # scale is keyword-only


# ------------------------------------------------------------------------------------------------
# Transformer layers

D, FF = 8, 12
LAYER_CASES = {
    "post_norm-relu": dict(),
    "pre_norm-gelu-batch_first": dict(norm_first=True, activation="gelu", batch_first=True),
    "no_bias-callable": dict(bias=False, activation=torch.nn.functional.silu),
    "eps": dict(layer_norm_eps=1e-2, activation="gelu"),
}


def _layer_kwargs(kwargs, ours):
    """A callable activation: torch's function for torch, ours for ours."""
    kwargs = dict(kwargs)
    if callable(kwargs.get("activation")):
        kwargs["activation"] = F.silu if ours else torch.nn.functional.silu
    return kwargs


def _twin_layers(name, kwargs, *args):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(D, H, FF, 0.2, **_layer_kwargs(kwargs, False))
    theirs = theirs.double().eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = getattr(nn, name)(D, H, FF, 0.2, **_layer_kwargs(kwargs, True)).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch_state_dict(ours, theirs.state_dict())
    return ours, theirs


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_encoder_layer_matches_torch(case):
    kwargs = LAYER_CASES[case]
    ours, theirs = _twin_layers("TransformerEncoderLayer", kwargs)
    shape = (N, L, D) if kwargs.get("batch_first") else (L, N, D)
    (ox,), (tx,) = _inputs(shape)
    mask = nn.Transformer.generate_square_subsequent_mask(L).double()
    pad = _padding(N, L)
    o = ours(ox, src_mask=mask, src_key_padding_mask=nl.tensor(pad))
    t = theirs(tx, src_mask=torch.tensor(mask.numpy()), src_key_padding_mask=torch.tensor(pad))
    _compare([o], [t], [ox], [tx], ours, theirs)


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_decoder_layer_matches_torch(case):
    kwargs = LAYER_CASES[case]
    ours, theirs = _twin_layers("TransformerDecoderLayer", kwargs)
    bf = kwargs.get("batch_first")
    o_in, t_in = _inputs(*([(N, L, D), (N, S, D)] if bf else [(L, N, D), (S, N, D)]))
    mask = np.triu(np.ones((L, L), dtype=bool), 1)
    memory_mask = np.random.default_rng(4).standard_normal((L, S))
    pad, mpad = _padding(N, L), _padding(N, S, seed=5)
    o = ours(*o_in, tgt_mask=nl.tensor(mask), memory_mask=nl.tensor(memory_mask, dtype=nl.float64),
             tgt_key_padding_mask=nl.tensor(pad), memory_key_padding_mask=nl.tensor(mpad),
             tgt_is_causal=True)
    t = theirs(*t_in, tgt_mask=torch.tensor(mask), memory_mask=torch.tensor(memory_mask),
               tgt_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(mpad),
               tgt_is_causal=True)
    _compare([o], [t], o_in, t_in, ours, theirs)


def test_encoder_and_decoder_stacks_match_torch():
    torch.manual_seed(0)
    t_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, H, FF, 0.1, norm_first=True), 2,
        norm=torch.nn.LayerNorm(D), enable_nested_tensor=False)
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D, H, FF, 0.1), 2,
                                        norm=torch.nn.LayerNorm(D))
    theirs = torch.nn.ModuleDict(dict(enc=t_enc, dec=t_dec)).double().eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    o_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, 0.1, norm_first=True), 2,
                                  norm=nn.LayerNorm(D))
    o_dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, FF, 0.1), 2,
                                  norm=nn.LayerNorm(D))
    ours = nn.ModuleDict(dict(enc=o_enc, dec=o_dec)).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch_state_dict(ours, theirs.state_dict())
    o_in, t_in = _inputs((S, N, D), (L, N, D))
    causal = nn.Transformer.generate_square_subsequent_mask(L).double()
    pad = _padding(N, S)
    o = o_dec(o_in[1], o_enc(o_in[0], src_key_padding_mask=nl.tensor(pad)), tgt_mask=causal,
              memory_key_padding_mask=nl.tensor(pad))
    t = t_dec(t_in[1], t_enc(t_in[0], src_key_padding_mask=torch.tensor(pad)),
              tgt_mask=torch.tensor(causal.numpy()), memory_key_padding_mask=torch.tensor(pad))
    _compare([o], [t], o_in, t_in, ours, theirs)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    kwargs = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=1,
                  dim_feedforward=FF, dropout=0.3, batch_first=batch_first, activation="gelu")
    ours, theirs = _twins("Transformer", **kwargs)
    o_in, t_in = _inputs(*([(N, S, D), (N, L, D)] if batch_first else [(S, N, D), (L, N, D)]))
    causal = nn.Transformer.generate_square_subsequent_mask(L, dtype=nl.float64)
    o = ours(*o_in, tgt_mask=causal, src_key_padding_mask=nl.tensor(_padding(N, S)))
    t = theirs(*t_in, tgt_mask=torch.tensor(causal.numpy()),
               src_key_padding_mask=torch.tensor(_padding(N, S)))
    _compare([o], [t], o_in, t_in, ours, theirs)


def test_transformer_unbatched_matches_torch():
    ours, theirs = _twins("Transformer", D, H, 1, 1, FF, norm_first=True)
    o_in, t_in = _inputs((S, D), (L, D))
    causal = nn.Transformer.generate_square_subsequent_mask(L, dtype=nl.float64)
    o = ours(*o_in, tgt_mask=causal)
    t = theirs(*t_in, tgt_mask=torch.tensor(causal.numpy()))
    _compare([o], [t], o_in, t_in, ours, theirs)


def test_square_subsequent_mask_and_init():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert m.dtype == np.float32
    model = nn.Transformer(16, 4, 2, 2, 32)
    for name, p in model.named_parameters():
        if p.ndim > 1:  # Xavier-uniform, including out_proj and the feed-forward weights
            fan_out, fan_in = p.shape
            assert np.abs(p.numpy()).max() <= np.sqrt(6 / (fan_in + fan_out)) + 1e-7, name
    enc = model.encoder.layers
    np.testing.assert_array_equal(enc[0].linear1.weight.numpy(), model.encoder.layers[0]
                                  .linear1.weight.numpy())
    assert enc[0].linear1.weight is not enc[1].linear1.weight  # copies, not shared


def test_transformer_bad_input():
    model = nn.Transformer(D, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(nl.randn(S, 2, D), nl.randn(L, 3, D))
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        model(nl.randn(S, 2, D), nl.randn(L, 2, D + 1))
    with pytest.raises(ValueError, match="activation should be"):
        nn.TransformerEncoderLayer(D, H, activation="tanh")
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.TransformerDecoderLayer(D, 3)
    layer = nn.TransformerEncoderLayer(D, H, FF)
    with pytest.raises(ValueError, match="pass attn_mask"):
        layer(nl.randn(L, N, D), is_causal=True)
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(layer, -1)
