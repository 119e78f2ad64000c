"""NAdam, RAdam, Adamax, ASGD, Rprop and LBFGS against torch.optim: trajectories and state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim
from neuralab.autograd import Tensor
from tests.optim.test_optimizers import (
    B0,
    LABELS,
    U0,
    W0,
    X,
    run_neuralab,
    run_torch,
    softmax_regression_grads,
)

CASES = [
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.03, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                   momentum_decay=0.02)),
    ("NAdam", dict(lr=0.03, weight_decay=0.2, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.7, 0.95), weight_decay=0.3, decoupled_weight_decay=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), eps=1e-4, weight_decay=0.1)),
    ("Adamax", dict(lr=0.02, weight_decay=0.05, maximize=True)),
    ("ASGD", dict(lr=0.3)),
    # t0 = 10: the average starts inside the 50 steps; lambd large enough to matter.
    ("ASGD", dict(lr=0.5, lambd=0.05, alpha=0.6, t0=10, weight_decay=0.05)),
    ("ASGD", dict(lr=0.2, lambd=1e-3, t0=5, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.02, etas=(0.6, 1.1), maximize=True)),
]

# Every hyper-parameter away from its default, for the state comparisons.
NON_DEFAULT = {
    "NAdam": dict(lr=0.03, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.02),
    "RAdam": dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
    "Adamax": dict(lr=0.05, betas=(0.7, 0.9), eps=1e-4, weight_decay=0.1),
    "ASGD": dict(lr=0.5, lambd=0.05, alpha=0.6, t0=4, weight_decay=0.05),
    "Rprop": dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
}
NAMES = list(NON_DEFAULT)


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
            # ASGD: PyTorch rounds its step size η to float32 (its scalar state dtype).
            np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{name} {kwargs} step {step} param {label}")
    np.testing.assert_array_equal(ours[-1][2], U0)  # no gradient: untouched


def _train_both(name, kwargs, steps):
    w = Tensor(W0.copy(), dtype=np.float64, requires_grad=True)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    opt = getattr(optim, name)([w], **kwargs)
    topt = getattr(torch.optim, name)([tw], **kwargs)
    for _ in range(steps):
        w.grad = Tensor(softmax_regression_grads(w.array, B0)[0], dtype=np.float64)
        tw.grad = torch.from_numpy(softmax_regression_grads(tw.detach().numpy(), B0)[0])
        opt.step()
        topt.step()
    return opt, topt, w, tw


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("steps", [1, 12])
def test_state_matches_torch(name, steps):
    """The same keys as torch's state, holding the same values (ASGD's average, NAdam's μ
    product, Rprop's step sizes...), and the hyper-parameters saved in the groups."""
    opt, topt, _, _ = _train_both(name, NON_DEFAULT[name], steps)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    for key, value in tsd["state"][0].items():
        np.testing.assert_allclose(np.asarray(sd["state"][0][key], dtype=np.float64),
                                   value.numpy().astype(np.float64), rtol=1e-6, atol=1e-12,
                                   err_msg=f"{name} state {key}")
    assert sd["state"][0]["step"] == steps
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])
    for key, value in sd["param_groups"][0].items():
        if key != "params":
            assert value == tsd["param_groups"][0][key], key


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name):
    w = Tensor(np.zeros(2), requires_grad=True)
    ours = getattr(optim, name)([w]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).param_groups[0]
    for key, value in ours.items():
        if key != "params":
            assert value == theirs[key], key


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_identically(name):
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
                               **NON_DEFAULT[name])
    train(opt, params, 8)
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1]
    assert saved["param_groups"][1]["lr"] == 0.02
    clone = fresh()
    for c, p in zip(clone, params):
        c.array[...] = p.array
    opt2 = getattr(optim, name)([{"params": [clone[0]]}, {"params": [clone[1]]}])
    opt2.load_state_dict(saved)
    train(opt, params, 8)
    train(opt2, clone, 8)
    for c, p in zip(clone, params):
        np.testing.assert_array_equal(c.array, p.array)


@pytest.mark.parametrize("name", NAMES)
def test_loads_a_torch_state_dict(name):
    """torch's scalar state (0-d tensors: step, mu_product, eta, mu) continues identically."""
    _, topt, _, tw = _train_both(name, NON_DEFAULT[name], 6)
    w = Tensor(tw.detach().numpy().copy(), dtype=np.float64, requires_grad=True)
    opt = getattr(optim, name)([w], lr=1.0)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == NON_DEFAULT[name]["lr"]
    for _ in range(6):
        tw.grad = torch.from_numpy(softmax_regression_grads(tw.detach().numpy(), B0)[0])
        w.grad = Tensor(softmax_regression_grads(w.array, B0)[0], dtype=np.float64)
        topt.step()
        opt.step()
    np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_float32_parameters_stay_float32():
    for name in NAMES:
        w = Tensor(W0.astype(np.float32), requires_grad=True)
        opt = getattr(optim, name)([w], **NON_DEFAULT[name])
        for _ in range(3):
            w.grad = Tensor(softmax_regression_grads(w.array.astype(np.float64), B0)[0]
                            .astype(np.float32))
            opt.step()
        assert w.array.dtype == np.float32, name
        for key, value in opt.state[w].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, (name, key)


def test_step_does_not_modify_the_gradient():
    for name in NAMES:
        w = Tensor(W0.copy(), dtype=np.float64, requires_grad=True)
        g = np.linspace(-1, 1, W0.size).reshape(W0.shape)
        w.grad = Tensor(g.copy(), dtype=np.float64)
        opt = getattr(optim, name)([w], **NON_DEFAULT[name], maximize=True)
        opt.step()
        opt.step()
        np.testing.assert_array_equal(w.grad.array, g, err_msg=name)


def test_rprop_sign_flip_rests_the_weight():
    """A weight whose gradient changes sign shrinks its step and does not move that step."""
    w = Tensor(np.zeros(2), requires_grad=True)
    opt = optim.Rprop([w], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 1.0))
    w.grad = Tensor(np.array([1.0, -1.0]))
    opt.step()
    np.testing.assert_allclose(w.array, [-0.1, 0.1])       # first step: Δ = lr
    w.grad = Tensor(np.array([1.0, 1.0]))
    opt.step()
    np.testing.assert_allclose(w.array, [-0.3, 0.1])       # kept sign: Δ·2; flipped: rests
    np.testing.assert_allclose(opt.state[w]["step_size"], [0.2, 0.05])
    np.testing.assert_allclose(opt.state[w]["prev"], [1.0, 0.0])


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.NAdam(p, lr=-1), "NAdam: lr must be >= 0, got -1"),
    (lambda p: optim.NAdam(p, momentum_decay=-0.1), "NAdam: momentum_decay must be >= 0"),
    (lambda p: optim.NAdam(p, betas=(1.0, 0.9)), r"NAdam: betas\[0\] must be in \[0, 1\)"),
    (lambda p: optim.RAdam(p, betas=(0.9,)), "RAdam: betas must be a pair"),
    (lambda p: optim.RAdam(p, weight_decay=-1), "RAdam: weight_decay must be >= 0"),
    (lambda p: optim.Adamax(p, eps=-1e-8), "Adamax: eps must be >= 0"),
    (lambda p: optim.Adamax(p, betas=(0.9, 1.5)), r"Adamax: betas\[1\] must be in \[0, 1\)"),
    (lambda p: optim.ASGD(p, lambd=-1), "ASGD: lambd must be >= 0"),
    (lambda p: optim.ASGD(p, t0="soon"), "ASGD: t0 must be a number"),
    (lambda p: optim.Rprop(p, etas=(1.2, 0.5)), "0 < etaminus < 1 < etaplus"),
    (lambda p: optim.Rprop(p, etas=0.5), "Rprop: etas must be a pair"),
    (lambda p: optim.Rprop(p, step_sizes=(1.0, 0.1)), "min <= max"),
    (lambda p: optim.Rprop(p, step_sizes=(-1.0, 0.1)), r"Rprop: step_sizes\[0\] must be >= 0"),
    (lambda p: optim.LBFGS(p, lr=-1), "LBFGS: lr must be >= 0"),
    (lambda p: optim.LBFGS(p, max_iter=0), "LBFGS: max_iter must be a positive integer"),
    (lambda p: optim.LBFGS(p, history_size=2.5), "history_size must be a positive integer"),
    (lambda p: optim.LBFGS(p, line_search_fn="armijo"),
     "line_search_fn must be None or 'strong_wolfe', got 'armijo'"),
    (lambda p: optim.LBFGS([{"params": p}, {"params": [Tensor(np.zeros(1),
                                                              requires_grad=True)]}]),
     "LBFGS doesn't support per-parameter options"),
])
def test_validation_errors(make, message):
    params = [Tensor(np.zeros(3), requires_grad=True)]
    with pytest.raises((ValueError, TypeError), match=message):
        make(params)


# ---------------------------------------------------------------------------- LBFGS
def _lbfgs_pair(kwargs):
    """LBFGS on the softmax regression in both libraries, gradients from the same NumPy code."""
    w, b = (Tensor(a.copy(), dtype=np.float64, requires_grad=True) for a in (W0, B0))
    tw, tb = (torch.tensor(a.copy(), requires_grad=True) for a in (W0, B0))
    opt = optim.LBFGS([w, b], **kwargs)
    topt = torch.optim.LBFGS([tw, tb], **kwargs)

    def loss_and_grads(wa, ba):
        z = X @ wa + ba
        z = z - z.max(axis=1, keepdims=True)
        loss = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(X)), LABELS]))
        loss += 0.05 * float((wa**2).sum())  # an L2 term: a unique minimum
        dw, db = softmax_regression_grads(wa, ba)
        return loss, dw + 0.1 * wa, db

    def closure():
        opt.zero_grad()
        loss, dw, db = loss_and_grads(w.array, b.array)
        w.grad, b.grad = Tensor(dw, dtype=np.float64), Tensor(db, dtype=np.float64)
        return loss

    def tclosure():
        topt.zero_grad()
        loss, dw, db = loss_and_grads(tw.detach().numpy(), tb.detach().numpy())
        tw.grad, tb.grad = torch.from_numpy(dw), torch.from_numpy(db)
        return torch.tensor(loss, dtype=torch.float64)

    return (opt, closure, (w, b)), (topt, tclosure, (tw, tb))


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(lr=0.5, max_iter=4, history_size=2),
    dict(lr=0.8, max_iter=6, max_eval=9, history_size=3, line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", tolerance_change=1e-12, tolerance_grad=1e-9),
], ids=["defaults", "fixed-step", "wolfe-short", "wolfe"])
def test_lbfgs_trajectory_matches_torch(kwargs):
    (opt, closure, params), (topt, tclosure, tparams) = _lbfgs_pair(kwargs)
    losses = []
    for step in range(5):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        losses.append(loss)
        assert loss == pytest.approx(tloss.item(), rel=1e-9), step
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-7, atol=1e-10,
                                       err_msg=f"step {step}")
        state, tstate = opt.state[params[0]], topt.state[tparams[0]]
        assert (state["func_evals"], state["n_iter"]) == (tstate["func_evals"],
                                                           tstate["n_iter"]), step
        assert len(state["old_dirs"]) == len(tstate["old_dirs"])
    assert losses[-1] < losses[0] - 0.1, "L-BFGS did not descend: the test would prove little"


def _autograd_closures(fn, *pairs):
    """For each (optimizer, x): a closure computing fn(x) and its gradient by x's own autograd."""
    def closure_for(opt, x):
        def closure():
            opt.zero_grad()
            loss = fn(x)
            loss.backward()
            return loss
        return closure
    return [closure_for(opt, x) for opt, x in pairs]


def test_lbfgs_rosenbrock_with_autograd_matches_torch():
    """The closure uses each library's own autograd; strong Wolfe reaches the minimum (1, 1...)."""
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    x = nl.tensor(x0.copy(), dtype=nl.float64, requires_grad=True)
    tx = torch.tensor(x0.copy(), requires_grad=True)
    opt = optim.LBFGS([x], lr=1, max_iter=10, history_size=5, line_search_fn="strong_wolfe")
    topt = torch.optim.LBFGS([tx], lr=1, max_iter=10, history_size=5,
                             line_search_fn="strong_wolfe")

    def rosenbrock(v):
        return (100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2).sum()

    closure, tclosure = _autograd_closures(rosenbrock, (opt, x), (topt, tx))

    for step in range(8):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert isinstance(loss, Tensor)
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-6, abs=1e-12), step
        np.testing.assert_allclose(x.array, tx.detach().numpy(), rtol=1e-6, atol=1e-8,
                                   err_msg=f"step {step}")
    np.testing.assert_allclose(x.array, np.ones(4), atol=1e-4)


def _wiggly(v):
    """Non-convex: many local minima, so the line search overshoots, brackets and zooms."""
    return (v * v / 2 + (3 * v).sin()).sum()


def _half_square(v):
    return (v * v).sum() / 2


def _log_bowl(v):
    """Flat far from 0: a long first trial step lands where the slope has turned."""
    return (1 + v * v).log().sum()


# (function, x0, lr): the first trial step of (x0, lr) is 1.95 times the exact minimizer along
# −g for the half square (the slope turns positive with enough decrease: bracketing by slope);
# the wiggly and log cases zoom close to an end of the bracket (the "insufficient progress"
# rule moves the trial 10% inside).
LINE_SEARCH_CASES = [
    (_half_square, [1.0, 0.5, 0.5], 3.9),
    (_wiggly, [3.0, -2.0, 0.1], 3.9),
    (_wiggly, [1.3, -0.7, 0.4], 0.05),
    (_log_bowl, [3.0, -2.0, 0.1], 100.0),
    (_log_bowl, [1.0, 0.5, 0.5], 3.9),
]


@pytest.mark.parametrize("fn,x0,lr", LINE_SEARCH_CASES,
                         ids=[f"{f.__name__[1:]}-{lr}" for f, _, lr in LINE_SEARCH_CASES])
def test_lbfgs_line_search_cases_match_torch(fn, x0, lr):
    """Each phase of the strong Wolfe search (growing the step, bracketing by a rising slope or
    by too little decrease, zooming near an end of the bracket), with a parameter that never
    gets a gradient alongside."""
    x0 = np.array(x0)
    x = nl.tensor(x0.copy(), dtype=nl.float64, requires_grad=True)
    idle = nl.tensor(np.ones(2), dtype=nl.float64, requires_grad=True)
    tx = torch.tensor(x0.copy(), requires_grad=True)
    tidle = torch.ones(2, dtype=torch.float64, requires_grad=True)
    kwargs = dict(lr=lr, max_iter=8, history_size=3, line_search_fn="strong_wolfe")
    opt, topt = optim.LBFGS([x, idle], **kwargs), torch.optim.LBFGS([tx, tidle], **kwargs)
    closure, tclosure = _autograd_closures(fn, (opt, x), (topt, tx))

    for step in range(2):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-7, abs=1e-12), step
        np.testing.assert_allclose(x.array, tx.detach().numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=f"step {step}")
        assert opt.state[x]["func_evals"] == topt.state[tx]["func_evals"]
        assert opt.state[x]["n_iter"] == topt.state[tx]["n_iter"]
    assert float(fn(x)) < float(fn(nl.tensor(x0, dtype=nl.float64)))
    np.testing.assert_array_equal(idle.array, np.ones(2))


def test_lbfgs_stops_at_a_stationary_point():
    w = Tensor(np.ones(3), requires_grad=True)
    opt = optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        w.grad = Tensor(np.full(3, 1e-9))  # below tolerance_grad
        return 2.0

    assert opt.step(closure) == 2.0
    np.testing.assert_array_equal(w.array, np.ones(3))
    assert len(calls) == 1 and opt.state[w]["func_evals"] == 1


def test_lbfgs_needs_a_closure():
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([w]).add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)]})


@pytest.mark.parametrize("source", ["neuralab", "torch"])
def test_lbfgs_state_dict_round_trip(source):
    """Saved after two steps (history, direction, flat gradient), loaded into a fresh optimizer,
    training continues exactly as the original does; torch's state dict loads too."""
    kwargs = dict(lr=0.8, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    (opt, closure, params), (topt, tclosure, tparams) = _lbfgs_pair(kwargs)
    for _ in range(2):
        opt.step(closure)
        topt.step(tclosure)
    saved = opt.state_dict() if source == "neuralab" else topt.state_dict()
    assert set(saved["state"][0]) == set(topt.state_dict()["state"][0])
    (opt2, closure2, params2), _ = _lbfgs_pair(dict(lr=5.0))
    for p2, p in zip(params2, params):
        p2.array[...] = p.array
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["history_size"] == 4
    for _ in range(2):
        opt.step(closure)
        opt2.step(closure2)
    for p2, p in zip(params2, params):
        np.testing.assert_allclose(p2.array, p.array, rtol=1e-12, atol=1e-14)
    bad = opt.state_dict()
    bad["state"][0]["d"] = np.zeros(3)
    with pytest.raises(ValueError, match="state 'd' has 3 elements but the parameters have 18"):
        opt2.load_state_dict(bad)


def test_exports():
    for name in ("NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS"):
        assert name in optim.__all__
        assert issubclass(getattr(optim, name), optim.Optimizer)
