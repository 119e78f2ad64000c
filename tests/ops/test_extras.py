"""The torch-level settings, windows, anomaly detection and Tensor methods of neuralab/runtime.py,
neuralab/windows.py and neuralab/autograd/anomaly.py, against PyTorch."""

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_pytorch(name, n, periodic):
    ours = getattr(nl, name)(n, periodic, dtype=nl.float64)
    theirs = getattr(torch, name)(n, periodic, dtype=torch.float64)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_window_options_and_errors():
    np.testing.assert_allclose(nl.kaiser_window(6, False, 3.5).numpy(),
                               torch.kaiser_window(6, False, 3.5).numpy(), rtol=1e-6)
    np.testing.assert_allclose(nl.hamming_window(5, True, 0.6, 0.3).numpy(),
                               torch.hamming_window(5, True, 0.6, 0.3).numpy(), rtol=1e-6)
    assert nl.hann_window(4).dtype == nl.float32
    with pytest.raises(RuntimeError, match="non-negative window_length"):
        nl.hann_window(-1)
    with pytest.raises(RuntimeError, match="floating point"):
        nl.hann_window(4, dtype=nl.int64)


def test_finfo_iinfo_can_cast_typename():
    for d, t in ((nl.float32, torch.float32), (nl.float64, torch.float64),
                 (nl.float16, torch.float16)):
        ours, theirs = nl.finfo(d), torch.finfo(t)
        for key in ("bits", "eps", "max", "min", "tiny", "resolution", "dtype"):
            assert getattr(ours, key) == getattr(theirs, key), key
    assert nl.finfo().eps == torch.finfo().eps
    for d, t in ((nl.int8, torch.int8), (nl.int64, torch.int64), (nl.uint8, torch.uint8)):
        ours, theirs = nl.iinfo(d), torch.iinfo(t)
        assert (ours.bits, ours.max, ours.min, ours.dtype) == (theirs.bits, theirs.max,
                                                              theirs.min, theirs.dtype)
    with pytest.raises(TypeError, match="iinfo"):
        nl.finfo(nl.int32)
    with pytest.raises(TypeError, match="finfo"):
        nl.iinfo(nl.float32)
    names = ["float32", "float64", "int64", "int32", "uint8", "bool"]
    for a in names:
        for b in names:
            assert nl.can_cast(getattr(nl, a), getattr(nl, b)) == torch.can_cast(
                getattr(torch, a), getattr(torch, b)), (a, b)
    assert nl.typename(nl.zeros(2)) == torch.typename(torch.zeros(2))
    assert nl.typename(nl.zeros(2, dtype=nl.int64)) == torch.typename(torch.zeros(2).long())
    assert nl.typename(3) == torch.typename(3) == "int"
    assert nl.typename(np.zeros) == torch.typename(np.zeros)


def test_printoptions_change_the_repr():
    x = nl.tensor([1.123456789, 2.0, 3e-5], dtype=nl.float64)
    try:
        nl.set_printoptions(precision=2)
        assert "1.12" in repr(x) and "1.123" not in repr(x)
        nl.set_printoptions(sci_mode=True)
        assert "e+00" in repr(x)
        nl.set_printoptions(profile="default")
        assert "e+00" not in repr(x) and "1.1235" in repr(x)
        nl.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(nl.arange(10))
        nl.set_printoptions(profile="full")
        assert "..." not in repr(nl.arange(2000))
        with pytest.raises(ValueError, match="profile"):
            nl.set_printoptions(profile="long")
    finally:
        nl.set_printoptions(profile="default")
        nl.set_printoptions(threshold=50)


def test_global_flags():
    assert not nl.are_deterministic_algorithms_enabled()
    nl.use_deterministic_algorithms(True, warn_only=True)
    assert nl.are_deterministic_algorithms_enabled()
    assert nl.is_deterministic_algorithms_warn_only_enabled()
    nl.use_deterministic_algorithms(False)
    assert not nl.is_deterministic_algorithms_warn_only_enabled()
    assert nl.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    nl.set_float32_matmul_precision("high")
    assert nl.get_float32_matmul_precision() == "high"
    nl.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="precision"):
        nl.set_float32_matmul_precision("low")
    nl.set_num_interop_threads(2)
    assert nl.get_num_interop_threads() == 2
    with pytest.raises(RuntimeError, match="positive"):
        nl.set_num_interop_threads(0)
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            nl.set_default_tensor_type(nl.DoubleTensor)
        assert nl.get_default_dtype() == nl.float64
        with pytest.warns(UserWarning):
            nl.set_default_tensor_type("torch.FloatTensor")
        assert nl.get_default_dtype() == nl.float32
    finally:
        nl.set_default_dtype(nl.float32)


def test_compile_wraps_modules_as_pytorch():
    torch.manual_seed(0)
    net_t = torch.nn.Sequential(torch.nn.Linear(3, 2))
    net = nl.nn.Sequential(nl.nn.Linear(3, 2))
    compiled = nl.compile(net, mode="reduce-overhead", backend="inductor", fullgraph=True,
                          dynamic=False)
    assert type(compiled).__name__ == "OptimizedModule"
    assert compiled._orig_mod is net
    keys_t = list(torch.compile(net_t).state_dict())
    assert list(compiled.state_dict()) == keys_t == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    x = nl.randn(4, 3)
    np.testing.assert_array_equal(compiled(x).numpy(), net(x).numpy())
    assert compiled.training and nl.compile(nl.nn.Linear(3, 5)).out_features == 5
    assert len(list(compiled.parameters())) == 2

    def f(x):
        return x + 1

    assert nl.compile(f) is f
    assert nl.compile(mode="max-autotune")(f) is f
    with pytest.raises(RuntimeError, match="mode"):
        nl.compile(f, mode="fastest")


def test_factories():
    a = np.arange(3.0)
    t = nl.asarray(a)
    a[0] = 7
    assert t[0].item() == 7  # shares memory
    assert nl.asarray(a, copy=True) is not None and nl.asarray(t) is t
    assert nl.asarray([1, 2]).dtype == nl.int64
    assert nl.asarray(t, dtype=nl.float32).dtype == nl.float32
    with pytest.raises(ValueError, match="copy=False"):
        nl.asarray(t, dtype=nl.float32, copy=False)
    s = nl.scalar_tensor(3)
    assert s.shape == () and s.dtype == nl.float32 and s.item() == 3
    assert nl.scalar_tensor(2, dtype=nl.int64).dtype == torch.scalar_tensor(
        2, dtype=torch.int64).numpy().dtype
    e = nl.empty_strided((2, 3), (3, 1), dtype=nl.float64)
    assert e.shape == (2, 3) and e.dtype == nl.float64
    with pytest.raises(RuntimeError, match="mismatch"):
        nl.empty_strided((2, 3), (1,))


def test_inplace_twins_and_fill():
    for name in nl.runtime.INPLACE_TWINS:
        assert hasattr(torch, name), name
    x = nl.tensor([-1.5, 0.5, 2.0])
    assert nl.abs_(x) is x
    np.testing.assert_array_equal(x.numpy(), [1.5, 0.5, 2.0])
    nl.clamp_(x, max=1.0)
    nl.sigmoid_(x)
    xt = torch.tensor([-1.5, 0.5, 2.0]).abs_().clamp_(max=1.0).sigmoid_()
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-6)
    nl.zero_(x)
    assert not x.numpy().any()
    nl.fill_(x, 2.5)
    y = nl.fill(x, 4.0)
    assert y is not x and y.numpy().tolist() == [4.0] * 3 and x.numpy().tolist() == [2.5] * 3
    w = nl.tensor([[3.0, 4.0], [0.3, 0.4]])
    w.renorm_(2, 0, 1.0)
    np.testing.assert_allclose(w.numpy(), torch.tensor([[3.0, 4.0], [0.3, 0.4]]).renorm(
        2, 0, 1.0).numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="must be Tensor"):
        nl.abs_([1.0])


def test_anomaly_detection_names_the_op():
    assert not nl.is_anomaly_enabled()
    x = nl.tensor([-1.0, 1.0], requires_grad=True)
    nan = nl.tensor([float("nan"), 1.0])
    with pytest.warns(UserWarning, match="Anomaly"):
        with nl.autograd.detect_anomaly():
            assert nl.is_anomaly_enabled() and nl.is_anomaly_check_nan_enabled()
            with pytest.raises(RuntimeError,
                               match="Function 'MulBackward0' returned nan values in its 0th"):
                (x * nan).sum().backward()
    assert not nl.is_anomaly_enabled()
    (x * nan).sum().backward()  # off again: the NaN gradient is accumulated silently
    assert np.isnan(x.grad.numpy()).any()
    with nl.autograd.set_detect_anomaly(True, check_nan=False):
        assert nl.is_anomaly_enabled() and not nl.is_anomaly_check_nan_enabled()
        (x * nan).sum().backward()
    nl.autograd.set_detect_anomaly(True)
    try:
        assert nl.is_anomaly_enabled()
    finally:
        nl.autograd.set_detect_anomaly(False)
    assert not nl.is_anomaly_enabled()


@pytest.mark.parametrize(("method", "args", "check"), [
    ("exponential_", (2.0,), lambda a: abs(a.mean() - 0.5) < 0.05 and a.min() >= 0),
    ("geometric_", (0.25,), lambda a: abs(a.mean() - 4.0) < 0.3 and a.min() >= 1),
    ("cauchy_", (1.0, 0.5), lambda a: abs(np.median(a) - 1.0) < 0.1),
    ("log_normal_", (0.5, 0.3), lambda a: abs(np.log(a).mean() - 0.5) < 0.03),
])
def test_random_fills(method, args, check):
    x = nl.empty(4000, dtype=nl.float64)
    assert getattr(x, method)(*args) is x
    assert check(x.numpy())
    a = getattr(nl.empty(5), method)(*args, generator=nl.Generator().manual_seed(3))
    b = getattr(nl.empty(5), method)(*args, generator=nl.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_random_fill_errors_and_binomial():
    with pytest.raises(RuntimeError, match="p to be in"):
        nl.empty(3).geometric_(0.0)
    with pytest.raises(RuntimeError, match="sigma"):
        nl.empty(3).cauchy_(0.0, -1.0)
    with pytest.raises(RuntimeError, match="floating"):
        nl.zeros(3, dtype=nl.int64).exponential_()
    count = nl.full((4000,), 10.0)
    draws = nl.binomial(count, nl.full((4000,), 0.3))
    assert draws.dtype == nl.float32 and abs(draws.numpy().mean() - 3.0) < 0.1
    with pytest.raises(RuntimeError, match="prob"):
        nl.binomial(nl.ones(2), nl.tensor([0.5, 1.5]))


@pytest.mark.parametrize(("shape", "wrap"), [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                              ((3, 5), True), ((2, 2, 2), False)])
def test_fill_diagonal(shape, wrap):
    x = nl.zeros(*shape)
    x.fill_diagonal_(5.0, wrap=wrap)
    np.testing.assert_array_equal(x.numpy(), torch.zeros(shape).fill_diagonal_(5.0, wrap).numpy())


def test_fill_diagonal_gradient_and_errors():
    a = np.arange(9.0).reshape(3, 3)
    x, xt = nl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x * 2, xt * 2
    y.fill_diagonal_(1.0)
    yt.fill_diagonal_(1.0)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    with pytest.raises(RuntimeError, match="equal length"):
        nl.zeros(2, 3, 3).fill_diagonal_(1.0)
    with pytest.raises(RuntimeError, match="larger than 1"):
        nl.zeros(3).fill_diagonal_(1.0)


def test_resize():
    for new in [(3, 2), (2, 5), (4,)]:
        x, xt = nl.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
        assert x.resize_(*new) is x
        xt.resize_(*new)
        assert x.shape == tuple(xt.shape)
        n = min(6, int(np.prod(new)))
        np.testing.assert_array_equal(x.numpy().ravel()[:n], xt.numpy().ravel()[:n])
    x = nl.zeros(2, 2)
    x.resize_as_(nl.zeros(3, 1))
    assert x.shape == (3, 1)
    with pytest.raises(RuntimeError, match="require grad"):
        nl.zeros(2, requires_grad=True).resize_(3)


def test_flags_and_conjugation_of_real_tensors():
    x, xt = nl.ones(2), torch.ones(2)
    for name in ("is_pinned", "is_shared", "is_conj", "is_neg"):
        assert getattr(x, name)() is getattr(xt, name)() is False
    for name in ("is_meta", "is_sparse", "is_quantized", "is_nested"):
        assert getattr(x, name) is getattr(xt, name) is False
    assert x.conj() is x and x.resolve_conj() is x and x.resolve_neg() is x and x.real is x
    assert xt.conj() is xt and xt.real is xt
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        x.imag  # noqa: B018
    with pytest.raises(TypeError, match="float16 .*float32 .*float64"):
        x.bfloat16()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: nl.split_with_sizes(nl.zeros(4), [1, 2]), "sum exactly to 4"),
    (lambda: nl.as_strided(nl.zeros(4), (3,), (2,)), "out of bounds"),
    (lambda: nl.gradient(nl.zeros(2), edge_order=2), "at least edge_order\\+1"),
    (lambda: nl.gradient(nl.zeros(4), edge_order=3), "edge_order=1 and edge_order=2"),
    (lambda: nl.renorm(nl.zeros(3), 2, 0, 1.0), "at least 2 dimensions"),
    (lambda: nl.nuclear_norm(nl.zeros(2, 2, 2)), "2D"),
    (lambda: nl.histogram(nl.zeros(3), 0), "bins must be > 0"),
    (lambda: nl.histogram(nl.zeros(3), 2, range=(1.0, 0.0)), "max must be larger than min"),
    (lambda: nl.convolution(nl.zeros(1, 1, 2), nl.zeros(1, 1), None, 1, 0, 1, False, 0, 1),
     "weight"),
])
def test_bad_input_messages(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
