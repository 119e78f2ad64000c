"""Learning-rate schedulers against torch.optim.lr_scheduler: the same sequences of rates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from neuralab import optim
from neuralab.autograd import Tensor
from neuralab.optim import lr_scheduler

STEPS = 100
LRS = (0.1, 0.03)


def pair(kind: str = "SGD", **kwargs):
    """Two optimizers (neuralab, torch) with two parameter groups of different learning rates."""
    ours = [Tensor(np.zeros(2), requires_grad=True) for _ in range(2)]
    theirs = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    opt = getattr(optim, kind)([{"params": [ours[0]], "lr": LRS[0]},
                                {"params": [ours[1]], "lr": LRS[1]}], **kwargs)
    topt = getattr(torch.optim, kind)([{"params": [theirs[0]], "lr": LRS[0]},
                                       {"params": [theirs[1]], "lr": LRS[1]}], **kwargs)
    return opt, topt


def momenta(opt) -> list:
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def compare(name: str, kwargs: dict, kind: str = "SGD", opt_kwargs: dict | None = None,
            steps: int = STEPS) -> list:
    opt, topt = pair(kind, **(opt_kwargs or {}))
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    seen = []
    for step in range(steps + 1):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12,
                                   atol=1e-15, err_msg=f"{name} {kwargs} step {step}")
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                                   [g["lr"] for g in topt.param_groups], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(momenta(opt), momenta(topt), rtol=1e-12,
                                   err_msg=f"{name} momentum at step {step}")
        assert sched.last_epoch == tsched.last_epoch
        seen.append(sched.get_last_lr()[0])
        if step < steps:
            topt.step()  # torch warns when its scheduler steps before its optimizer
            sched.step()
            tsched.step()
    return seen


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[10, 30, 30, 60], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.97)),
    ("CosineAnnealingLR", dict(T_max=100)),
    ("CosineAnnealingLR", dict(T_max=30, eta_min=1e-3)),  # runs past T_max: climbs back
    ("LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=10)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=40)),
    ("LinearLR", dict()),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kwargs):
    seen = compare(name, kwargs)
    assert len(set(np.round(seen, 15))) > 1, "the schedule never changed the rate"


ONE_CYCLE = [
    ("SGD", dict(momentum=0.9), dict(max_lr=1.0, total_steps=STEPS)),
    ("SGD", dict(momentum=0.9), dict(max_lr=[1.0, 0.5], epochs=10, steps_per_epoch=10,
                                     anneal_strategy="linear")),
    ("SGD", dict(momentum=0.9), dict(max_lr=0.8, total_steps=STEPS, three_phase=True,
                                     pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    ("SGD", dict(), dict(max_lr=0.5, total_steps=STEPS, cycle_momentum=False)),
    ("Adam", dict(), dict(max_lr=0.01, total_steps=STEPS, base_momentum=0.8,
                          max_momentum=[0.9, 0.95])),
    ("RMSprop", dict(momentum=0.5), dict(max_lr=0.01, total_steps=STEPS, pct_start=0.5,
                                         three_phase=True, anneal_strategy="linear")),
]


@pytest.mark.parametrize("kind,opt_kwargs,kwargs", ONE_CYCLE)
def test_one_cycle_matches_torch(kind, opt_kwargs, kwargs):
    seen = compare("OneCycleLR", kwargs, kind=kind, opt_kwargs=opt_kwargs)
    assert max(seen) > 10 * seen[0]  # it really warmed up


def test_one_cycle_refuses_to_run_past_its_end():
    opt, _ = pair()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):
        sched.step()
    with pytest.raises(ValueError, match="total_steps=5"):
        sched.step()


PLATEAU = [
    dict(),
    dict(mode="min", factor=0.5, patience=2, threshold=1e-2, cooldown=3, min_lr=1e-3),
    dict(mode="max", factor=0.3, patience=1, threshold_mode="abs", threshold=0.05,
         min_lr=[1e-4, 5e-3]),
    dict(mode="min", factor=0.5, patience=0, threshold_mode="abs", threshold=0.0, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(3)
    # A loss that improves, then plateaus with noise, so reductions happen.
    metric = np.concatenate([np.linspace(1.0, 0.3, 25), 0.3 + 0.02 * rng.standard_normal(75)])
    if kwargs.get("mode") == "max":
        metric = -metric
    opt, topt = pair()
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    lrs = []
    for step, value in enumerate(metric):
        sched.step(value)
        tsched.step(value)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12,
                                   err_msg=f"step {step}")
        assert (sched.num_bad_epochs, sched.cooldown_counter) == (tsched.num_bad_epochs,
                                                                  tsched.cooldown_counter)
        lrs.append(sched.get_last_lr()[0])
    assert lrs[-1] < LRS[0]


def test_scheduler_state_dict_round_trip():
    opt, _ = pair()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.01)
    for _ in range(7):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert saved["last_epoch"] == 7 and "optimizer" not in saved

    opt2, _ = pair()
    opt2.load_state_dict(saved_opt)  # brings 'initial_lr' and the current lr
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=20, eta_min=0.01, last_epoch=6)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(30):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_resuming_without_initial_lr_is_explained():
    opt, _ = pair()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)


@pytest.mark.parametrize("make,message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size must be a positive integer"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), r"start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2.0), "end_factor"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, -1]), "milestones"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), "total_steps, or both epochs"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5),
     "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=10), "one value per group"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     "anneal_strategy"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "factor must be < 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="maximum"), "mode must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode"),
    (lambda o: lr_scheduler.StepLR(object(), step_size=1), "expected a neuralab.optim"),
])
def test_scheduler_validation(make, message):
    opt, _ = pair()
    with pytest.raises((ValueError, TypeError), match=message):
        make(opt)


def test_one_cycle_needs_momentum_to_cycle():
    opt = optim.Adagrad([Tensor(np.zeros(1), requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_scheduler_drives_training():
    """The scheduled lr is the one the next optimizer step uses."""
    w = Tensor(np.ones(1), dtype=np.float64, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for lr in (1.0, 0.5, 0.25):
        before = w.array.copy()
        w.grad = Tensor(np.ones(1), dtype=np.float64)
        opt.step()
        np.testing.assert_allclose(before - w.array, lr)
        sched.step()


@pytest.mark.parametrize("total,warmup", [(100, 10), (100, 1), (37, 36)])
def test_warmup_cosine_matches_torch_chained_linear_and_cosine(total, warmup):
    """WarmupCosineLR is PyTorch's LinearLR warm-up times CosineAnnealingLR (ChainedScheduler)."""
    opt, topt = pair()
    sched = lr_scheduler.WarmupCosineLR(opt, total_steps=total, warmup_steps=warmup)
    parts = [torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=total)]
    if warmup > 1:
        parts.insert(0, torch.optim.lr_scheduler.LinearLR(topt, start_factor=1 / warmup,
                                                          total_iters=warmup - 1))
    tsched = torch.optim.lr_scheduler.ChainedScheduler(parts)
    for step in range(total):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-9,
                                   atol=1e-15, err_msg=f"step {step}")
        topt.step()
        sched.step()
        tsched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.0, abs=1e-15)  # zero at step T


def test_warmup_cosine_validation():
    opt, _ = pair()
    with pytest.raises(ValueError, match="WarmupCosineLR: warmup_steps must be a positive"):
        lr_scheduler.WarmupCosineLR(opt, total_steps=10, warmup_steps=0)
