"""The activation modules against PyTorch's: outputs and input gradients, parameters for PReLU."""

import numpy as np
import pytest
import torch

import neuralab as nl

CASES = [
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 3.0), {}), ("ReLU6", (), {}), ("SiLU", (), {}),
    ("Mish", (), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}), ("Softsign", (), {}),
    ("LogSigmoid", (), {}), ("SELU", (), {}), ("CELU", (), {"alpha": 0.7}), ("GLU", (), {}),
    ("GLU", (1,), {}), ("Softmin", (1,), {}), ("Tanhshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("Hardshrink", (), {"lambd": 0.4}), ("Threshold", (0.1, -1.0), {}), ("Softmin", (), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_module_matches_pytorch(name, args, kwargs):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 4, 6))
    ours = getattr(nl.nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    xo = nl.tensor(x, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-12)
    v = np.random.default_rng(1).standard_normal(yo.shape)
    (yo * nl.tensor(v, dtype=np.float64)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-12)
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]


@pytest.mark.parametrize("num_parameters", [1, 4])
def test_prelu_learns_its_slopes_as_pytorch(num_parameters):
    x = np.random.default_rng(0).uniform(-2, 2, (5, 4, 3))
    ours, theirs = nl.nn.PReLU(num_parameters, init=0.1), torch.nn.PReLU(num_parameters, init=0.1)
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours(nl.tensor(x)).sum().backward()
    theirs(torch.tensor(x, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="min_val"):
        nl.nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="num_parameters"):
        nl.nn.PReLU(0)
    with pytest.raises(RuntimeError, match="even"):
        nl.nn.functional.glu(nl.zeros(3, 5))
