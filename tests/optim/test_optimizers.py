"""Optimizers against torch.optim: the same problem, the same gradients, the same trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim
from neuralab.autograd import Tensor

STEPS = 50
N, D, K = 32, 5, 3

_rng = np.random.default_rng(1234)
X = _rng.standard_normal((N, D))
LABELS = _rng.integers(0, K, N)
Y = np.eye(K)[LABELS]
W0 = 0.3 * _rng.standard_normal((D, K))
B0 = 0.1 * _rng.standard_normal(K)
# A third parameter that never receives a gradient: both libraries must leave it alone.
U0 = _rng.standard_normal(4)


def softmax_regression_grads(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂L/∂w and ∂L/∂b of the mean cross-entropy of softmax(x w + b), in NumPy float64."""
    z = X @ w + b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    dz = (p - Y) / N
    return X.T @ dz, dz.sum(axis=0)


def make_groups(params: list, groups: str, lr2: float) -> list:
    """The parameter list, or two groups (w; b and the gradient-less u) with different lrs."""
    if groups == "one":
        return params
    return [{"params": [params[0]]}, {"params": params[1:], "lr": lr2}]


def run_neuralab(name: str, kwargs: dict, groups: str, lr2: float, skip_b: bool) -> list:
    w, b, u = (Tensor(a.copy(), dtype=np.float64, requires_grad=True) for a in (W0, B0, U0))
    opt = getattr(optim, name)(make_groups([w, b, u], groups, lr2), **kwargs)
    trajectory = []
    for step in range(STEPS):
        opt.zero_grad()
        dw, db = softmax_regression_grads(w.array, b.array)
        w.grad = Tensor(dw, dtype=np.float64)
        if not (skip_b and step % 3 == 1):
            b.grad = Tensor(db, dtype=np.float64)
        opt.step()
        trajectory.append((w.array.copy(), b.array.copy(), u.array.copy()))
    return trajectory


def run_torch(name: str, kwargs: dict, groups: str, lr2: float, skip_b: bool) -> list:
    w, b, u = (torch.tensor(a.copy(), dtype=torch.float64, requires_grad=True)
               for a in (W0, B0, U0))
    opt = getattr(torch.optim, name)(make_groups([w, b, u], groups, lr2), **kwargs)
    trajectory = []
    for step in range(STEPS):
        opt.zero_grad()
        dw, db = softmax_regression_grads(w.detach().numpy(), b.detach().numpy())
        w.grad = torch.from_numpy(dw)
        if not (skip_b and step % 3 == 1):
            b.grad = torch.from_numpy(db)
        opt.step()
        trajectory.append(tuple(t.detach().numpy().copy() for t in (w, b, u)))
    return trajectory


CASES = [
    ("SGD", dict(lr=0.5)),
    ("SGD", dict(lr=0.2, momentum=0.9)),
    ("SGD", dict(lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.3, momentum=0.5, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.8, maximize=True)),
    ("Adagrad", dict(lr=0.2)),
    ("Adagrad", dict(lr=0.2, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(lr=2.0, rho=0.95, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.3, amsgrad=True)),
]


@pytest.mark.parametrize("groups", ["one", "two"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs, groups):
    lr2 = kwargs["lr"] * 0.3
    ours = run_neuralab(name, kwargs, groups, lr2, skip_b=groups == "two")
    ref = run_torch(name, kwargs, groups, lr2, skip_b=groups == "two")
    moved = np.abs(ours[-1][0] - W0).max()
    assert moved > 1e-3, "the parameters barely moved: the comparison would prove nothing"
    for step, (mine, theirs) in enumerate(zip(ours, ref)):
        for label, a, r in zip("wbu", mine, theirs):
            np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{name} {kwargs} step {step} param {label}")
    np.testing.assert_array_equal(ours[-1][2], U0)  # no gradient: untouched


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"])
def test_state_keys_match_torch(name):
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9), "RMSprop": dict(momentum=0.9, centered=True),
              "Adam": dict(amsgrad=True)}.get(name, {})
    w = Tensor(W0.copy(), dtype=np.float64, requires_grad=True)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    opt = getattr(optim, name)([w], **kwargs)
    topt = getattr(torch.optim, name)([tw], **kwargs)
    w.grad = Tensor(np.ones_like(W0))
    tw.grad = torch.ones_like(tw)
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])
    assert sd["param_groups"][0]["params"] == [0]
    for key, value in tsd["state"][0].items():
        np.testing.assert_allclose(np.asarray(sd["state"][0][key]), value.numpy(), rtol=1e-6)


def test_float32_parameters_stay_float32_and_track_torch():
    w = Tensor(W0.astype(np.float32), requires_grad=True)
    tw = torch.tensor(W0.astype(np.float32), requires_grad=True)
    opt, topt = optim.Adam([w], lr=0.05), torch.optim.Adam([tw], lr=0.05)
    b = np.zeros(K, dtype=np.float32)
    for _ in range(20):
        g, _ = softmax_regression_grads(w.array.astype(np.float64), b)
        w.grad = Tensor(g.astype(np.float32))
        tw.grad = torch.from_numpy(g.astype(np.float32))
        opt.step()
        topt.step()
    assert w.array.dtype == np.float32
    assert opt.state[w]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_autograd_least_squares_with_closure_matches_torch():
    """Gradients from each library's own autograd; the closure path of ``step``."""
    rng = np.random.default_rng(5)
    x, y, w_init = rng.standard_normal((20, 4)), rng.standard_normal((20, 2)), rng.standard_normal(
        (4, 2))
    xt, yt = Tensor(x, dtype=np.float64), Tensor(y, dtype=np.float64)
    w = Tensor(w_init.copy(), dtype=np.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.05, momentum=0.9, nesterov=True)
    tw = torch.tensor(w_init.copy(), requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.05, momentum=0.9, nesterov=True)
    calls = []

    def closure():
        opt.zero_grad()
        r = xt @ w - yt
        # L = ½‖r‖²/N, so ∂L/∂r = r/N: seed backward with it (no reduction op needed).
        r.backward(gradient=r.array / len(x))
        calls.append(1)
        return 0.5 * float((r.array**2).sum()) / len(x)

    def tclosure():
        topt.zero_grad()
        loss = 0.5 * ((torch.from_numpy(x) @ tw - torch.from_numpy(y)) ** 2).sum() / len(x)
        loss.backward()
        return loss

    for _ in range(30):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert loss == pytest.approx(tloss.item(), rel=1e-9)
        np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert len(calls) == 30


def test_zero_grad():
    w = nl.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = Tensor(np.ones(3))
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and np.all(w.grad.array == 0)
    opt.zero_grad()
    assert w.grad is None
    before = w.array.copy()
    opt.step()  # no gradient: nothing happens, no state is created
    np.testing.assert_array_equal(w.array, before)
    assert opt.state == {}


def test_step_does_not_modify_the_gradient():
    w = Tensor(W0.copy(), dtype=np.float64, requires_grad=True)
    g = np.full_like(W0, 0.5)
    w.grad = Tensor(g.copy())
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True, maximize=True)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(w.grad.array, g)


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adadelta", dict(lr=0.5, rho=0.8)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    def fresh():
        return [Tensor(a.copy(), dtype=np.float64, requires_grad=True) for a in (W0, B0)]

    def train(opt, params, steps):
        for _ in range(steps):
            dw, db = softmax_regression_grads(params[0].array, params[1].array)
            params[0].grad = Tensor(dw, dtype=np.float64)
            params[1].grad = Tensor(db, dtype=np.float64)
            opt.step()

    params = fresh()
    opt = getattr(optim, name)([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}],
                               **kwargs)
    train(opt, params, 10)
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1]
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.02
    for entries in saved["state"].values():
        for value in entries.values():
            assert isinstance(value, (np.ndarray, int, float))

    clone = fresh()
    for c, p in zip(clone, params):
        c.array[...] = p.array
    opt2 = getattr(optim, name)(clone, lr=123.0)  # wrong lr and one group: the load restores
    with pytest.raises(ValueError, match="parameter groups"):
        opt2.load_state_dict(saved)
    opt2 = getattr(optim, name)([{"params": [clone[0]]}, {"params": [clone[1]]}], lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02 and opt2.param_groups[0]["params"][0] is clone[0]
    # The loaded state is a copy: training the original must not leak into the clone.
    train(opt, params, 10)
    train(opt2, clone, 10)
    for c, p in zip(clone, params):
        np.testing.assert_array_equal(c.array, p.array)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.05, amsgrad=True))])
def test_loads_a_torch_state_dict(name, kwargs):
    """A torch checkpoint's optimizer state (tensors, float 'step') continues identically here."""
    tw = torch.tensor(W0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([tw], **kwargs)
    for _ in range(10):
        tw.grad = torch.from_numpy(softmax_regression_grads(tw.detach().numpy(), B0)[0])
        topt.step()
    w = Tensor(tw.detach().numpy().copy(), dtype=np.float64, requires_grad=True)
    opt = getattr(optim, name)([w], lr=1.0)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(10):
        tw.grad = torch.from_numpy(softmax_regression_grads(tw.detach().numpy(), B0)[0])
        w.grad = Tensor(softmax_regression_grads(w.array, B0)[0], dtype=np.float64)
        topt.step()
        opt.step()
        np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_add_param_group_and_defaults():
    w, b = (Tensor(np.zeros(2), requires_grad=True) for _ in range(2))
    opt = optim.Adam([w], lr=0.1)
    opt.add_param_group({"params": b, "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="Adam: lr must be >= 0, got -1"):
        opt.add_param_group({"params": [Tensor(np.zeros(1), requires_grad=True)], "lr": -1})


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD(p, lr=-0.1), r"SGD: lr must be >= 0, got -0\.1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True requires momentum > 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "dampening = 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "SGD: momentum must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "SGD: weight_decay must be >= 0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\)"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\)"),
    (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
    (lambda p: optim.AdamW(p, eps=-1e-8), "AdamW: eps must be >= 0"),
    (lambda p: optim.RMSprop(p, alpha=1.5), r"RMSprop: alpha must be in \[0, 1\)"),
    (lambda p: optim.RMSprop(p, momentum=-1), "RMSprop: momentum must be >= 0"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Adagrad: lr_decay must be >= 0"),
    (lambda p: optim.Adadelta(p, rho=1.5), r"Adadelta: rho must be in \[0, 1\]"),
    (lambda p: optim.Adadelta(p, eps=-1), "Adadelta: eps must be >= 0"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD(p + p, lr=0.1), "appears twice"),
    (lambda p: optim.SGD(p[0], lr=0.1), "single Tensor"),
    (lambda p: optim.SGD([np.zeros(3)], lr=0.1), "expected a Tensor"),
    (lambda p: optim.SGD([nl.tensor([1, 2])], lr=0.1), "floating-point"),
    (lambda p: optim.SGD(p, lr="fast"), "SGD: lr must be a number"),
])
def test_validation_errors(make, message):
    params = [Tensor(np.zeros(3), requires_grad=True)]
    with pytest.raises((ValueError, TypeError), match=message):
        make(params)


def test_grad_shape_mismatch_is_reported():
    w = Tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = Tensor(np.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(3,\) has a gradient of shape \(4,\)"):
        opt.step()


def test_exports():
    for name in ("SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop", "Optimizer",
                 "lr_scheduler"):
        assert hasattr(optim, name)
    assert issubclass(optim.AdamW, optim.Optimizer)
    assert "lr: 0.1" in repr(optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1))
