"""``x[index] = value`` against PyTorch: values, PyTorch's placement rule, and gradients."""

import numpy as np
import pytest
import torch

import neuralab as nl

_D = [[0, 1], [1, 0]]
CASES = [
    (lambda x: (1, slice(None), nl.tensor([0, 2])),
     lambda x: (1, slice(None), torch.tensor([0, 2])), (4, 2)),
    (lambda x: 0, lambda x: 0, ()),
    (lambda x: (slice(1, 3), nl.tensor(_D)), lambda x: (slice(1, 3), torch.tensor(_D)), (2, 2, 5)),
    (lambda x: x > 0, lambda x: x > 0, ()),
    (lambda x: (Ellipsis, 1), lambda x: (Ellipsis, 1), (3, 4)),
    (lambda x: (0, [1, 2], 3), lambda x: (0, [1, 2], 3), (2,)),
    (lambda x: (None, 2, slice(0, 4, 2)), lambda x: (None, 2, slice(0, 4, 2)), (1, 2, 5)),
]


@pytest.mark.parametrize(("ours", "theirs", "value_shape"), CASES)
def test_setitem_matches_pytorch(ours, theirs, value_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5))
    v = rng.standard_normal(value_shape)
    a, t = nl.tensor(x), torch.tensor(x)
    a[ours(a)] = nl.tensor(v)
    t[theirs(t)] = torch.tensor(v)
    np.testing.assert_allclose(a.numpy(), t.numpy())


def test_setitem_gradients_flow_to_the_rest_and_to_the_value():
    w = nl.tensor(np.ones((3, 4)), requires_grad=True, dtype=np.float64)
    v = nl.tensor(np.full(4, 2.0), requires_grad=True, dtype=np.float64)
    tw = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
    tv = torch.full((4,), 2.0, dtype=torch.float64, requires_grad=True)
    weights = np.arange(12.0).reshape(3, 4)
    h = w * 3
    h[1] = v * v
    h[:, 0] = 0.0
    (h * nl.tensor(weights)).sum().backward()
    th = tw * 3
    th[1] = tv * tv
    th[:, 0] = 0.0
    (th * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy())
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())


def test_setitem_refuses_a_leaf_that_requires_grad_and_bad_shapes():
    w = nl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    x = nl.zeros(3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = nl.ones(3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1] = 1.0


INPLACE = [
    ("masked_fill_", lambda m, i: (m, -1.0)),
    ("index_fill_", lambda m, i: (1, i, 2.0)),
    ("index_add_", lambda m, i: (1, i, "src_cols")),
    ("scatter_", lambda m, i: (1, i[None, :].repeat(3, 1), 0.5)),
    ("tril_", lambda m, i: ()),
    ("triu_", lambda m, i: (1,)),
]


@pytest.mark.parametrize(("name", "args"), INPLACE)
def test_inplace_methods_match_pytorch(name, args):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) > 0.5
    cols = rng.standard_normal((3, 2))

    def call(lib, tensor, t):
        m = lib.tensor(mask)
        i = lib.tensor([2, 0])
        values = [lib.tensor(cols).to(t.dtype) if isinstance(a, str) else a
                  for a in args(m, i)]
        return getattr(t, name)(*values)

    a, t = nl.tensor(x), torch.tensor(x)
    assert call(nl, nl.tensor, a) is a
    call(torch, torch.tensor, t)
    np.testing.assert_allclose(a.numpy(), t.numpy())
    # In a graph: the gradient flows through the in-place op to what x was before.
    w = nl.tensor(x, dtype=np.float64, requires_grad=True)
    tw = torch.tensor(x, requires_grad=True)
    h, th = w * 2, tw * 2
    call(nl, nl.tensor, h)
    call(torch, torch.tensor, th)
    (h * h).sum().backward()
    (th * th).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize(("shape", "args"), [
    ((7,), (0, 3, 2)), ((2, 6, 3), (1, 2, 1)), ((4, 5), (-1, 5, 3)), ((3,), (0, 0, 1)),
    ((), (0, 1, 1)),
])
def test_tensor_unfold_windows_match_pytorch(shape, args):
    x = np.random.default_rng(0).standard_normal(shape)
    a = nl.tensor(x, dtype=np.float64, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y, z = a.unfold(*args), t.unfold(*args)
    np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(tuple(z.shape))
    (y * nl.tensor(weights, dtype=np.float64)).sum().backward()
    (z * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())
