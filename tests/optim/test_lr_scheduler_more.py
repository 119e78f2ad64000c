"""ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, SequentialLR
and ChainedScheduler against torch.optim.lr_scheduler: the very same learning rates (and momenta)
at every step, composed schedules, step(epoch), state_dict round trips and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from neuralab import optim
from neuralab.autograd import Tensor
from neuralab.optim import lr_scheduler
from tests.optim.test_lr_scheduler import LRS, momenta, pair

STEPS = 120
TORCH = torch.optim.lr_scheduler


def check_same(sched, tsched, opt, topt, where: str) -> None:
    """Exactly the same rates (no tolerance: the same arithmetic in the same order)."""
    assert sched.get_last_lr() == tsched.get_last_lr(), where
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups], where
    assert momenta(opt) == momenta(topt), where
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None), where


def run_twins(make, kind: str = "SGD", opt_kwargs: dict | None = None,
              steps: int = STEPS) -> list[float]:
    """Build the schedule with ``make(module, optimizer)`` in both libraries and step both."""
    opt, topt = pair(kind, **(opt_kwargs or {}))
    sched, tsched = make(lr_scheduler, opt), make(TORCH, topt)
    seen = []
    for step in range(steps + 1):
        check_same(sched, tsched, opt, topt, f"step {step}")
        seen.append(sched.get_last_lr()[0])
        if step < steps:
            topt.step()  # torch warns when its scheduler steps before its optimizer
            sched.step()
            tsched.step()
    assert len(set(seen)) > 1, "the schedule never changed the rate"
    return seen


class Halving:
    """A callable object: its attributes are state, saved by state_dict."""

    def __init__(self, every: int):
        self.every = every

    def __call__(self, x: float) -> float:
        return 0.5 if x % self.every == 0 else 1.0


SINGLE = {
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=7),
    "ConstantLR-defaults": lambda m, o: m.ConstantLR(o),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "MultiplicativeLR-per-group": lambda m, o: m.MultiplicativeLR(
        o, lr_lambda=[lambda e: 0.5 if e % 9 == 0 else 1.0, lambda e: 1 - 1 / (e + 10)]),
    "MultiplicativeLR-object": lambda m, o: m.MultiplicativeLR(o, lr_lambda=Halving(11)),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(
        o, lr_lambda=[lambda e: 0.9 ** e, lambda e: 1 / (1 + e)]),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0),
    "PolynomialLR-past-end": lambda m, o: m.PolynomialLR(o, total_iters=30, power=0.5),
    "PolynomialLR-defaults": lambda m, o: m.PolynomialLR(o),
    "WarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "WarmRestarts-Tmult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                     eta_min=1e-3),
    "WarmRestarts-Tmult3": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3,
                                                                      eta_min=0.01),
}


@pytest.mark.parametrize("name", list(SINGLE))
def test_schedule_matches_torch(name):
    run_twins(SINGLE[name])


CYCLIC = {
    "triangular": ("SGD", dict(momentum=0.5), dict(base_lr=0.01, max_lr=0.1, step_size_up=7,
                                                   step_size_down=13)),
    "triangular2": ("SGD", dict(momentum=0.5), dict(base_lr=[0.01, 0.002], max_lr=[0.1, 0.05],
                                                    step_size_up=5, mode="triangular2",
                                                    base_momentum=0.7, max_momentum=0.95)),
    "exp_range": ("SGD", dict(momentum=0.5), dict(base_lr=0.001, max_lr=0.1, step_size_up=6,
                                                  mode="exp_range", gamma=0.98,
                                                  base_momentum=[0.8, 0.6],
                                                  max_momentum=[0.9, 0.99])),
    "scale_fn-cycle": ("SGD", dict(momentum=0.5), dict(
        base_lr=0.01, max_lr=0.2, step_size_up=4, step_size_down=6,
        scale_fn=lambda x: 0.5 * (1 + math.sin(x * math.pi / 2)))),
    "scale_fn-iterations": ("SGD", dict(momentum=0.5), dict(
        base_lr=0.01, max_lr=0.2, step_size_up=9, step_size_down=3,
        scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode="iterations")),
    "scale_fn-object": ("SGD", dict(momentum=0.5), dict(base_lr=0.01, max_lr=0.2, step_size_up=3,
                                                        scale_fn=Halving(2))),
    "no-momentum": ("SGD", dict(), dict(base_lr=0.05, max_lr=0.5, step_size_up=10,
                                        cycle_momentum=False)),
    "down-zero": ("SGD", dict(momentum=0.5), dict(base_lr=0.01, max_lr=0.1, step_size_up=8,
                                                  step_size_down=0)),
    "adam-betas": ("Adam", dict(betas=(0.85, 0.99)), dict(base_lr=1e-4, max_lr=1e-2,
                                                          step_size_up=8, mode="triangular2",
                                                          base_momentum=0.85,
                                                          max_momentum=0.95)),
    "adamw-betas": ("AdamW", dict(), dict(base_lr=1e-4, max_lr=1e-3, step_size_up=5,
                                          step_size_down=11, mode="exp_range", gamma=0.99)),
    "rmsprop": ("RMSprop", dict(momentum=0.3), dict(base_lr=1e-3, max_lr=1e-2,
                                                    step_size_up=4)),
}


@pytest.mark.parametrize("name", list(CYCLIC))
def test_cyclic_matches_torch(name):
    kind, opt_kwargs, kwargs = CYCLIC[name]
    seen = run_twins(lambda m, o: m.CyclicLR(o, **kwargs), kind, opt_kwargs)
    assert seen[0] == (kwargs["base_lr"][0] if isinstance(kwargs["base_lr"], list)
                       else kwargs["base_lr"])  # the optimizer's own rate was replaced


def test_cyclic_momentum_moves_against_the_rate():
    opt, _ = pair(momentum=0.5)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    assert opt.param_groups[0]["momentum"] == 0.9
    for _ in range(4):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.1)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.8)


COMPOSED = {
    "sequential-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=40)],
        milestones=[5]),
    "sequential-constant-exponential": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=20), m.ExponentialLR(o, gamma=0.9)],
        milestones=[20]),
    "sequential-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=2), m.StepLR(o, step_size=4, gamma=0.7),
            m.MultiStepLR(o, milestones=[0, 10, 10, 30], gamma=0.5)],
        milestones=[3, 25]),
    "sequential-polynomial-restarts": lambda m, o: m.SequentialLR(
        o, [m.LambdaLR(o, lambda e: (e + 1) / 8), m.PolynomialLR(o, total_iters=20, power=1.5),
            m.CosineAnnealingWarmRestarts(o, T_0=6, T_mult=2)],
        milestones=[8, 30]),
    "sequential-multiplicative": lambda m, o: m.SequentialLR(
        o, [m.MultiplicativeLR(o, lambda e: 1.1), m.LinearLR(o, 1.0, 0.2, total_iters=30)],
        milestones=[10]),
    "chained-constant-exponential": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=20), m.ExponentialLR(o, gamma=0.9)]),
    "chained-three-with-optimizer": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=10), m.MultiplicativeLR(o, lambda e: 0.99),
         m.StepLR(o, step_size=15, gamma=0.5)], optimizer=o),
    "chained-warmup-polynomial": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=3), m.PolynomialLR(o, total_iters=50)]),
    "sequential-of-chained": lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                m.ExponentialLR(o, gamma=0.95)]),
            m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3)],
        milestones=[12]),
    "chained-of-sequential": lambda m, o: m.ChainedScheduler(
        [m.SequentialLR(o, [m.ConstantLR(o, factor=0.3, total_iters=6),
                            m.ExponentialLR(o, gamma=0.97)], milestones=[6]),
         m.MultiStepLR(o, milestones=[40, 80], gamma=0.5)]),
}


# torch's SequentialLR steps a nested ChainedScheduler's members before any optimizer step.
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_schedules_match_torch(name):
    run_twins(COMPOSED[name])


def test_sequential_with_cyclic_and_adam_momentum():
    run_twins(lambda m, o: m.SequentialLR(
        o, [m.CyclicLR(o, base_lr=1e-3, max_lr=1e-2, step_size_up=5),
            m.ExponentialLR(o, gamma=0.95)], milestones=[20]), kind="Adam")


def test_sequential_starts_each_scheduler_afresh():
    opt, _ = pair()
    sched = lr_scheduler.SequentialLR(
        opt, [lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=20),
              lr_scheduler.ExponentialLR(opt, gamma=0.9)], milestones=[3])
    lrs = [sched.get_last_lr()[0]]
    for _ in range(5):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.01, 0.01, 0.01, 0.1, 0.09, 0.081], rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch():
    """step(epoch + i / batches) once per batch, then interleaved step() and step(epoch)."""
    for kwargs in (dict(T_0=3, eta_min=0.005), dict(T_0=2, T_mult=2)):
        opt, topt = pair()
        sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, **kwargs)
        tsched = TORCH.CosineAnnealingWarmRestarts(topt, **kwargs)
        batches = 7
        for epoch in range(12):
            for i in range(batches):
                topt.step()
                sched.step(epoch + i / batches)
                tsched.step(epoch + i / batches)
                check_same(sched, tsched, opt, topt, f"{kwargs} epoch {epoch} batch {i}")
                assert (sched.T_cur, sched.T_i) == (tsched.T_cur, tsched.T_i)
        for call in [None, None, 26, None, 3.5, None, 0, None, 14, None, None]:
            sched.step(call)
            tsched.step(call)
            check_same(sched, tsched, opt, topt, f"{kwargs} step({call})")
            assert (sched.T_cur, sched.T_i) == (tsched.T_cur, tsched.T_i)


def test_warm_restarts_restart_to_the_initial_rate():
    opt, _ = pair()
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    lrs = []
    for _ in range(13):
        lrs.append(sched.get_last_lr()[0])
        sched.step()
    assert [i for i, lr in enumerate(lrs) if lr == LRS[0]] == [0, 4, 12]  # periods 4, 8


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5),
    lambda m, o: m.ExponentialLR(o, gamma=0.9),
    lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=6),
    lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=4),
    lambda m, o: m.PolynomialLR(o, total_iters=8, power=2.0),
    lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9),
])
def test_deprecated_step_epoch_uses_the_closed_form_as_torch(make):
    opt, topt = pair()
    sched, tsched = make(lr_scheduler, opt), make(TORCH, topt)
    for epoch in (None, 5, None, 2, 9, None, 0, 7):
        topt.step()
        if epoch is None:
            sched.step()
            tsched.step()
        else:
            with pytest.warns(UserWarning, match="deprecated"):
                sched.step(epoch)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tsched.step(epoch)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-14,
                                   err_msg=f"step({epoch})")
        assert sched.last_epoch == tsched.last_epoch


def resume_matches(make, steps_before: int = 13, steps_after: int = 40, kind: str = "SGD",
                   opt_kwargs: dict | None = None):
    """Save optimizer and scheduler after some steps, load into fresh ones, continue: the rates
    agree with an uninterrupted run."""
    opt, _ = pair(kind, **(opt_kwargs or {}))
    sched = make(lr_scheduler, opt)
    for _ in range(steps_before):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved

    opt2, _ = pair(kind, **(opt_kwargs or {}))
    sched2 = make(lr_scheduler, opt2)  # built first, then overwritten by the loaded states
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(steps_after):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert momenta(opt2) == momenta(opt)
    return saved


def test_sequential_state_dict_round_trip():
    saved = resume_matches(COMPOSED["sequential-three"], steps_before=5)
    assert saved["last_epoch"] == 5 and len(saved["_schedulers"]) == 3
    assert all(isinstance(s, dict) for s in saved["_schedulers"])


def test_chained_state_dict_round_trip():
    saved = resume_matches(COMPOSED["chained-three-with-optimizer"])
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [13, 13, 13]


def test_cyclic_state_dict_round_trip_keeps_a_callable_objects_state():
    kwargs = CYCLIC["scale_fn-object"][2]
    saved = resume_matches(lambda m, o: m.CyclicLR(o, **kwargs), opt_kwargs=dict(momentum=0.5))
    assert saved["_scale_fn_custom"] == {"every": 2}
    opt, topt = pair(momentum=0.5)
    tsaved = TORCH.CyclicLR(topt, base_lr=0.01, max_lr=0.2, step_size_up=3,
                            scale_fn=lambda x: 1.0).state_dict()
    assert lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.2, step_size_up=3,
                                 scale_fn=lambda x: 1.0).state_dict()["_scale_fn_custom"] \
        is tsaved["_scale_fn_custom"] is None  # a function is code, not state

    fn = Halving(5)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.2, step_size_up=3, scale_fn=fn)
    sched.load_state_dict(saved)
    assert fn.every == 2


def test_warm_restarts_and_multiplicative_state_dict_round_trip():
    resume_matches(SINGLE["WarmRestarts-Tmult"], steps_before=9)
    saved = resume_matches(SINGLE["MultiplicativeLR-object"], steps_before=10)
    assert saved["lr_lambdas"] == [{"every": 11}, {"every": 11}]
    opt, topt = pair()
    theirs = TORCH.MultiplicativeLR(topt, [Halving(3), lambda e: 1.0]).state_dict()
    ours = lr_scheduler.MultiplicativeLR(opt, [Halving(3), lambda e: 1.0]).state_dict()
    assert ours["lr_lambdas"] == theirs["lr_lambdas"] == [{"every": 3}, None]


def test_cyclic_resumes_with_last_epoch():
    """Resuming by last_epoch (after loading the optimizer's state) continues the cycle."""
    opt, _ = pair(momentum=0.5)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5)
    for _ in range(7):
        sched.step()
    opt2, _ = pair(momentum=0.5)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.CyclicLR(opt2, base_lr=0.01, max_lr=0.1, step_size_up=5,
                                   last_epoch=6)
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert momenta(opt2) == momenta(opt)


def test_schedulers_are_exported():
    for name in ("ConstantLR", "MultiplicativeLR", "PolynomialLR", "CosineAnnealingWarmRestarts",
                 "CyclicLR", "SequentialLR", "ChainedScheduler"):
        assert name in lr_scheduler.__all__
        assert issubclass(getattr(lr_scheduler, name), lr_scheduler.LRScheduler)


BAD = [
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), r"ConstantLR: factor must be in \[0, 1\]"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=0), "total_iters must be a positive"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=0.9), "lr_lambda must be a function"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=[lambda e: 1.0]),
     "got 1 lr_lambdas but the optimizer has 2 parameter groups"),
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=[lambda e: 1.0] * 3), "got 3 lr_lambdas"),
    (lambda o: lr_scheduler.MultiplicativeLR(object(), lambda e: 1.0),
     "expected a neuralab.optim Optimizer"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), "PolynomialLR: total_iters"),
    (lambda o: lr_scheduler.PolynomialLR(o, power=-1.0), "power must be a number >= 0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), "T_0 must be a positive"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2.5), "T_0 must be a positive"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=0), "T_mult"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, eta_min="0"), "eta_min"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="triangle"), "mode must be"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up must be"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_down=-2), "step_size_down must"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epoch"),
     "scale_mode must be"),
    (lambda o: lr_scheduler.CyclicLR(o, [0.01], 0.1), "base_lr has 1 values"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9, 0.9, 0.9]),
     "max_momentum has 3 values"),
    (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), "at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)],
                                         milestones=[3]), "one milestone fewer than schedulers"),
    (lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.ExponentialLR(o, 0.9)] * 3, milestones=[5, 2]), "increasing order"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], milestones=[]),
     "ReduceLROnPlateau, which is not supported"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(pair()[0], 0.9)],
                                         milestones=[]), "same optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [0.5], milestones=[]), "no optimizer attribute"),
    (lambda o: lr_scheduler.ChainedScheduler([]), "at least one scheduler"),
    (lambda o: lr_scheduler.ChainedScheduler(lr_scheduler.ExponentialLR(o, 0.9)),
     "must be a list of schedulers"),
    (lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.ExponentialLR(o, 0.9), lr_scheduler.ExponentialLR(pair()[0], 0.9)]),
     r"schedulers\[1\] \(ExponentialLR\) has another one"),
]


@pytest.mark.parametrize("make,message", BAD)
def test_bad_arguments_are_explained(make, message):
    opt, _ = pair()
    with pytest.raises((ValueError, TypeError), match=message):
        make(opt)


def test_cyclic_momentum_needs_an_optimizer_with_momentum():
    opt = optim.Adagrad([Tensor(np.zeros(1), requires_grad=True)])
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum=True needs an optimizer"):
        lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1)
    lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, cycle_momentum=False).step()


def test_warm_restarts_negative_epoch_is_explained():
    opt, _ = pair()
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3)
    with pytest.raises(ValueError, match="epoch must be a non-negative number, got -1"):
        sched.step(-1)


def test_constant_factor_zero_cannot_be_undone():
    opt, _ = pair()
    sched = lr_scheduler.ConstantLR(opt, factor=0.0, total_iters=2)
    sched.step()
    assert sched.get_last_lr() == [0.0, 0.0]
    with pytest.raises(ValueError, match="factor=0 cannot be divided out"):
        sched.step()


def test_cyclic_drives_sgd_momentum_in_training():
    """The cycled rate and momentum are the ones the next SGD step uses, as in torch."""
    w = Tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    tw = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt, topt = optim.SGD([w], lr=1.0, momentum=0.5), torch.optim.SGD([tw], lr=1.0, momentum=0.5)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3)
    tsched = TORCH.CyclicLR(topt, base_lr=0.01, max_lr=0.1, step_size_up=3)
    for step in range(10):
        grad = np.array([1.0, -2.0, 0.5]) * (step + 1)
        w.grad = Tensor(grad, dtype=np.float64)
        tw.grad = torch.tensor(grad)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=1e-13)
