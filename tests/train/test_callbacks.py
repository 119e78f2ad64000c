"""Trainer callbacks (StepRecorder, Evaluator, LambdaCallback, DivergenceStop, LossRecorder,
StepLimit, StepEvaluator, BestWeights, GradientNormRecorder) and the multi-scale evaluation of
train.metrics."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.data.arrays import ArrayLoader
from neuralab.nn import functional as F
from neuralab.nn.utils import clip_grad_norm_
from neuralab.train import Trainer, TrainingDiverged, callbacks
from neuralab.train.callbacks import (
    BestWeights,
    DivergenceStop,
    Evaluator,
    GradientNormRecorder,
    LambdaCallback,
    LossRecorder,
    StepEvaluator,
    StepLimit,
    StepRecorder,
)
from neuralab.train.metrics import crop_offsets, evaluate, multiscale_evaluate


def blobs(n=120, classes=3, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, dim))
    y = np.arange(n) % classes
    return (centers[y] + rng.normal(0, 1, size=(n, dim))).astype(np.float32), y


def _trainer(callbacks):
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, opt, progress=False, log=None, callbacks=callbacks)


def test_step_recorder_keeps_every_steps_loss_and_error():
    x, y = blobs()
    logged = []
    steps = StepRecorder(log=lambda step, **v: logged.append((step, v)), every=4)
    trainer = _trainer([steps])
    result = trainer.fit(ArrayLoader(x, y, 16, seed=0), epochs=2)
    assert len(steps.losses) == len(steps.errors) == trainer.global_step == 16
    # The epoch's mean training loss is the mean of its steps' losses (weighted by batch size).
    sizes = [16] * 7 + [8]
    first = np.average(steps.losses[:8], weights=sizes)
    assert result.history[0]["loss"] == pytest.approx(first, rel=1e-6)
    assert all(0 <= e <= 1 for e in steps.errors) and steps.errors[-1] < steps.errors[0]
    assert [s for s, _ in logged] == [0, 4, 8, 12]  # 0-based global steps
    assert set(logged[0][1]) == {"loss", "error"}
    with pytest.raises(ValueError, match="StepRecorder: every must be a positive integer"):
        StepRecorder(every=0)


def test_evaluator_runs_at_chosen_epochs_and_the_last():
    x, y = blobs()
    xt, yt = blobs(seed=1)
    logged = []
    tests = Evaluator(xt, yt, last_epoch=5, every=2, log=lambda step, **v: logged.append(v))
    trainer = _trainer([tests])
    trainer.fit(ArrayLoader(x, y, 30, seed=0), epochs=5)
    assert [r["epoch"] for r in tests.history] == [2, 4, 5]
    final = evaluate(trainer.model, xt, yt)
    assert tests.history[-1]["err1"] == pytest.approx(final["err1"])
    assert tests.history[-1]["loss"] == pytest.approx(final["loss"])
    assert set(logged[-1]) == {"epoch", "train_loss", "test_loss", "test_err1", "test_err5"}
    only_last = Evaluator(xt, yt, last_epoch=3)
    _trainer([only_last]).fit(ArrayLoader(x, y, 30, seed=0), epochs=3)
    assert [r["epoch"] for r in only_last.history] == [3]
    with pytest.raises(ValueError, match="Evaluator: every must be a non-negative integer"):
        Evaluator(xt, yt, last_epoch=3, every=-1)


def test_loss_recorder_keeps_the_loss_and_the_norm_before_clipping():
    x, y = blobs()
    logged = []
    losses = LossRecorder(log=lambda step, **v: logged.append((step, v)), every=4,
                          grad_norm=True)
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    regression = [(nl.tensor(x[i:i + 20]), nl.tensor(y[i:i + 20, None].astype(np.float32)))
                  for i in range(0, 120, 20)]
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.01), loss_fn=F.mse_loss,
                      grad_clip=0.5, progress=False, log=None, callbacks=[losses])
    trainer.fit(regression, epochs=2)
    assert len(losses.losses) == len(losses.grad_norms) == 12
    assert [s for s, _ in logged] == [4, 8, 12]  # steps done
    assert logged[0][1] == {"loss": losses.losses[3], "grad_norm": losses.grad_norms[3]}
    # The norm is taken before clipping: it exceeds the threshold the update was clipped to.
    assert max(losses.grad_norms) > 0.5
    model.zero_grad()
    F.mse_loss(model(regression[0][0]), regression[0][1]).backward()
    norm = float(clip_grad_norm_(model.parameters(), float("inf")).item())
    again, plain = LossRecorder(grad_norm=True), LossRecorder()
    for recorder in (again, plain):
        recorder.on_after_backward(trainer, 0)
    assert again.grad_norms == [norm] and plain.grad_norms == []
    with pytest.raises(ValueError, match="LossRecorder: every must be a positive integer"):
        LossRecorder(every=0)


def test_step_limit_ends_training_after_its_steps():
    x, y = blobs()
    losses = LossRecorder()
    trainer = _trainer([losses, StepLimit(11)])
    trainer.fit(ArrayLoader(x, y, 16, seed=0), epochs=5)  # 8 steps an epoch
    assert trainer.global_step == len(losses.losses) == 11
    with pytest.raises(ValueError, match="StepLimit: steps must be a positive integer"):
        StepLimit(0)


def test_step_evaluator_runs_at_the_start_every_few_steps_and_the_last():
    x, y = blobs()
    xt, yt = x[:40], y[:40]  # (the training set's first examples: the loss must fall)
    logged = []
    trainer = _trainer([])
    held_out = StepEvaluator(lambda: evaluate(trainer.model, xt, yt)["loss"], every=5,
                             last_step=8, log=lambda step, value: logged.append((step, value)))
    trainer.callbacks.append(held_out)
    trainer.fit(ArrayLoader(x, y, 16, seed=0), epochs=1)  # 8 steps
    assert [s for s, _ in held_out.history] == [0, 5, 8]
    assert held_out.history[-1][1] == pytest.approx(evaluate(trainer.model, xt, yt)["loss"])
    assert held_out.history[-1][1] < held_out.history[0][1]
    assert logged == held_out.history
    assert StepEvaluator(lambda: 1.0, every=3, at_start=False).history == []
    with pytest.raises(ValueError, match="StepEvaluator: every must be a positive integer"):
        StepEvaluator(lambda: 1.0, every=0)


class MeanColour(nn.Module):
    """A fully convolutional toy classifier: global average pooling, then a linear map."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return self.fc(x.mean(axis=(2, 3)))


def test_multiscale_evaluate_averages_the_posteriors_over_scales():
    nl.manual_seed(0)
    model = MeanColour()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, 30)
    model.train()
    # At the images' own size alone it is the plain evaluation.
    one = multiscale_evaluate(model, x, y, [8], batch_size=7)
    plain = evaluate(model, x, y, topk=(1, 5))
    assert one["err1"] == pytest.approx(plain["err1"]) and one["per_scale"][8] == one["err1"]
    assert one["err5"] == 0.0 and model.training  # 4 classes; the mode is restored
    # Several scales: the mean of the softmax outputs at each size.
    both = multiscale_evaluate(model, x, y, [8, 4])
    small = x.reshape(30, 3, 4, 2, 4, 2).mean(axis=(3, 5))
    with nl.no_grad():
        p = (F.softmax(model(nl.Tensor(x)), 1).array + F.softmax(model(nl.Tensor(small)), 1).array)
    assert both["err1"] == pytest.approx(float((p.argmax(1) != y).mean()))
    with pytest.raises(ValueError, match="scales is empty"):
        multiscale_evaluate(model, x, y, [])


def test_multiscale_evaluate_multi_crop_averages_the_windows_and_their_mirrors():
    nl.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5))  # sees where each pixel is
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3, 6, 6)).astype(np.float32)
    y = rng.integers(0, 5, 20)
    assert crop_offsets(6, 4, 3) == [0, 1, 2] and crop_offsets(6, 4, 2) == [0, 2]
    assert crop_offsets(7, 4, 1) == [1] and crop_offsets(4, 4, 5) == [0]
    got = multiscale_evaluate(model, x, y, [6], batch_size=8, crop=4, grid=2, flip=True)
    p = 0
    with nl.no_grad():
        for top in (0, 2):
            for left in (0, 2):
                window = x[..., top:top + 4, left:left + 4]
                for view in (window, window[..., ::-1]):
                    view = nl.Tensor(np.ascontiguousarray(view))
                    p = p + F.softmax(model(view), 1).array
    assert got["err1"] == pytest.approx(float((p.argmax(1) != y).mean()))
    centre = multiscale_evaluate(model, x, y, [6], crop=4)  # grid 1: the centred window only
    with nl.no_grad():
        z = model(nl.Tensor(np.ascontiguousarray(x[..., 1:5, 1:5])))
    assert centre["err1"] == pytest.approx(float((z.array.argmax(1) != y).mean()))
    with pytest.raises(ValueError, match="must hold the 4-pixel crop"):
        multiscale_evaluate(model, x, y, [3, 6], crop=4)
    with pytest.raises(ValueError, match="grid must be at least 1"):
        crop_offsets(6, 4, 0)


def test_lambda_callback_calls_each_function_at_its_place_in_the_loop():
    x, y = blobs()
    calls = []
    callback = LambdaCallback(
        on_after_backward=lambda trainer, step: calls.append(("backward", step)),
        on_batch_end=lambda trainer, step, loss, z, t: calls.append(("batch", step, z.shape)),
        on_epoch_end=lambda trainer, epoch, metrics: calls.append(("epoch", epoch)))
    _trainer([callback]).fit(ArrayLoader(x, y, 60, seed=0), epochs=2)
    assert calls == [("backward", 0), ("batch", 0, (60, 3)), ("backward", 1),
                     ("batch", 1, (60, 3)), ("epoch", 1), ("backward", 2), ("batch", 2, (60, 3)),
                     ("backward", 3), ("batch", 3, (60, 3)), ("epoch", 2)]
    _trainer([LambdaCallback()]).fit(ArrayLoader(x, y, 60, seed=0), epochs=1)  # all optional
    with pytest.raises(TypeError, match="LambdaCallback: on_batch_end must be a function"):
        LambdaCallback(on_batch_end=3)


def _sgd_run(lr, stop):
    """Three epochs of SGD at ``lr`` with ``stop``: the trainer and every step's loss."""
    x, y = blobs()
    losses = []
    trainer = _trainer([stop, LambdaCallback(on_batch_end=lambda tr, s, loss, z, t:
                                             losses.append(loss))])
    trainer.optimizer.param_groups[0]["lr"] = lr
    trainer.fit(ArrayLoader(x, y, 16, seed=0), epochs=3)
    return trainer, losses


def test_divergence_stop_ends_an_exploding_run_and_leaves_a_good_one_alone():
    stop = DivergenceStop(factor=10.0)
    trainer, losses = _sgd_run(3.0, stop)  # far too large a rate for these blobs
    assert stop.diverged and trainer.global_step == len(losses) < 24
    assert losses[-1] > 10 * losses[0] and all(v <= 10 * losses[0] for v in losses[:-1])
    stop = DivergenceStop(factor=10.0, threshold=1e6)
    trainer, losses = _sgd_run(0.05, stop)
    assert not stop.diverged and trainer.global_step == len(losses) == 24
    stop = DivergenceStop(threshold=losses[0] / 2)  # a threshold alone: stops at the first step
    trainer, _ = _sgd_run(0.05, stop)
    assert stop.diverged and trainer.global_step == 1


def test_divergence_stop_validates_its_limits():
    with pytest.raises(ValueError, match="give a factor, a threshold or both"):
        DivergenceStop()
    with pytest.raises(ValueError, match="factor must be a finite number, got inf"):
        DivergenceStop(factor=float("inf"))
    with pytest.raises(TrainingDiverged), np.errstate(all="ignore"):
        _sgd_run(1e30, DivergenceStop(factor=1e300))  # overflowing to inf: Trainer reports it


def test_best_weights_keeps_the_epoch_of_lowest_validation_error():
    x, y = blobs()
    xv, yv = blobs(seed=2)
    best = BestWeights(xv, yv, batch_size=40)
    trainer = _trainer([best])
    trainer.fit(ArrayLoader(x, y, 16, seed=0), epochs=6)
    assert [r["epoch"] for r in best.history] == list(range(1, 7))
    keys = [(r["err1"], r["loss"]) for r in best.history]
    assert best.best_epoch == 1 + keys.index(min(keys))
    # The kept weights are a copy: the model trained on, and reloading them gives that epoch's
    # validation error and loss.
    chosen = best.history[best.best_epoch - 1]
    trainer.model.load_state_dict(best.best_state)
    again = evaluate(trainer.model, xv, yv, batch_size=40, topk=(1,))
    assert again["err1"] == chosen["err1"] and again["loss"] == pytest.approx(chosen["loss"])


def test_best_weights_breaks_ties_on_the_validation_loss(monkeypatch):
    # Validation results given in advance, to test the choice alone.
    results = [{"loss": 0.5, "acc1": 0.9, "err1": 0.1}, {"loss": 0.4, "acc1": 0.9, "err1": 0.1},
               {"loss": 0.3, "acc1": 0.8, "err1": 0.2}]
    monkeypatch.setattr(callbacks, "evaluate", lambda *args, **kwargs: results.pop(0))
    best, trainer = BestWeights(None, None), _trainer([])
    for epoch in (1, 2, 3):
        best.on_epoch_end(trainer, epoch, {})
    assert best.best_epoch == 2  # epoch 1's error with a lower loss; epoch 3 has more error


class _GradsBeforeStep(nl.train.Callback):
    """The gradients as the optimizer is about to use them (a copy per step)."""

    def __init__(self):
        self.grads = []

    def on_after_backward(self, trainer, step):
        self.grads.append({name: p.grad.array.astype(np.float64).copy()
                           for name, p in trainer.model.named_parameters()})


def test_gradient_norm_recorder_follows_the_chosen_parameters():
    x, y = blobs()
    first, every, seen = GradientNormRecorder(("0.",)), GradientNormRecorder(), _GradsBeforeStep()
    trainer = _trainer([first, every, seen])
    trainer.fit(ArrayLoader(x, y, 40, seed=0), epochs=2)
    assert len(first.norms) == len(every.norms) == trainer.global_step == 6
    for step, grads in enumerate(seen.grads):
        lower = np.sqrt(sum((g ** 2).sum() for n, g in grads.items() if n.startswith("0.")))
        total = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
        assert first.norms[step] == pytest.approx(lower, rel=1e-12)
        assert every.norms[step] == pytest.approx(total, rel=1e-12)
        assert first.norms[step] < every.norms[step]
    with pytest.raises(TypeError, match="write \\('0.',\\)"):
        GradientNormRecorder("0.")
    with pytest.raises(ValueError, match="no parameter .*'conv1.'.* named 0.weight, 0.bias"):
        _trainer([GradientNormRecorder(("conv1.",))]).fit(ArrayLoader(x, y, 40, seed=0), epochs=1)
