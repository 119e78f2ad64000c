"""The training loop: learning, metrics, checkpoints, exact resume, NaN stop, early stopping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn, optim
from neuralab.data import DataLoader, TensorDataset
from neuralab.nn import functional as F
from neuralab.train import EarlyStopping, Trainer, TrainingDiverged, accuracy, fit
from neuralab.train import checkpoint as ckpt
from neuralab.train.metrics import main_output, topk_correct
from neuralab.train.rundir import read_metrics


def blobs(n=240, classes=3, dim=8, seed=0, flip=False):
    """Gaussian blobs: an easy classification problem."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, dim))
    y = np.arange(n) % classes
    x = centers[y] + rng.normal(0, 1, size=(n, dim))
    if flip:
        y = (y + 1) % classes
    return TensorDataset(x.astype(np.float32), y)


def small_model(dropout=0.0):
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fit_learns_and_logs(tmp_path):
    nl.manual_seed(0)
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train = DataLoader(blobs(), batch_size=32, shuffle=True, seed=0)
    val = DataLoader(blobs(seed=0, n=60), batch_size=64)
    result = fit(model, train, val, val, optimizer=opt, epochs=4, run_dir=tmp_path,
                 progress=False, log=None)
    losses = [r["loss"] for r in result.history if r["phase"] == "train"]
    assert losses[-1] < 0.5 * losses[0]
    assert result.test["acc1"] > 0.9 and result.test["acc5"] == 1.0  # k > C counts every row
    records = read_metrics(tmp_path)
    assert [(r["epoch"], r["phase"]) for r in records][:3] == [(1, "train"), (1, "val"),
                                                               (2, "train")]
    assert records[-1]["phase"] == "test"
    assert {"loss", "acc1", "samples_per_s", "lr"} <= set(records[0])
    assert (tmp_path / "config.json").exists() and (tmp_path / "checkpoint.npz").exists()
    assert model.training  # evaluation put it back in training mode


def test_accuracy_topk_matches_definition():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(50, 10)).astype(np.float32)
    target = rng.integers(0, 10, size=50)
    top1, top5 = accuracy(nl.tensor(logits), nl.tensor(target), topk=(1, 5))
    ranks = torch.from_numpy(logits).topk(5, dim=1).indices.numpy()
    assert top1 == np.mean(ranks[:, 0] == target)
    assert top5 == np.mean((ranks == target[:, None]).any(axis=1))
    assert topk_correct(logits, target, (1, 10)) == [int(top1 * 50), 50]
    with pytest.raises(ValueError, match="accuracy"):
        accuracy(logits[:, 0], target)


def test_main_output_is_the_logits_of_a_model_with_auxiliary_heads():
    logits, aux = nl.tensor([[1.0, 2.0]]), nl.tensor([[3.0, 4.0]])
    assert main_output((logits, aux)) is logits  # GoogLeNet in training: (logits, *heads)
    assert main_output(logits) is logits


def test_checkpoint_roundtrip_without_pickle(tmp_path):
    tree = {"model": {"0.weight": np.ones((2, 3), np.float32)}, "step": 3, "betas": (0.9, 0.99),
            "state": {0: {"buf": np.arange(3.0)}}, "best": None, "x": float("inf"),
            "s": np.float32(1.5), "names": ["a", "b"]}
    path = tmp_path / "c.npz"
    ckpt.save(path, tree)
    with np.load(path, allow_pickle=False) as npz:  # readable with pickle disabled
        assert all(npz[k].dtype != object for k in npz.files)
    back = ckpt.load(path)
    assert back["betas"] == (0.9, 0.99) and back["step"] == 3 and back["best"] is None
    assert list(back["state"]) == [0] and back["x"] == float("inf") and back["names"] == ["a", "b"]
    assert back["s"].dtype == np.float32
    np.testing.assert_array_equal(back["state"][0]["buf"], np.arange(3.0))
    np.testing.assert_array_equal(ckpt.load_state_dict(path)["0.weight"], np.ones((2, 3)))
    sd_path = tmp_path / "w.npz"
    ckpt.save_state_dict(sd_path, {"a.weight": np.zeros(2)})
    assert list(ckpt.load_state_dict(sd_path)) == ["a.weight"]
    with pytest.raises(TypeError, match="pickle"):
        ckpt.save(tmp_path / "bad.npz", {"f": object()})


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    ckpt.save(path, {"epoch": 1})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(path, {"epoch": 2})
    assert ckpt.load(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]


def _resume_setup(run_dir, seed_model):
    nl.manual_seed(seed_model)
    model = small_model(dropout=0.3)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    loader = DataLoader(blobs(), batch_size=24, shuffle=True, seed=11)
    trainer = Trainer(model, opt, scheduler=sched, run_dir=run_dir, progress=False, log=None)
    return model, trainer, loader


def test_resume_gives_bit_identical_weights(tmp_path):
    # Two runs compared bit for bit: a thread count that follows the load could differ.
    nl.set_num_threads(1)
    model_a, trainer_a, loader_a = _resume_setup(tmp_path / "a", 0)
    trainer_a.fit(loader_a, epochs=4)
    model_b, trainer_b, loader_b = _resume_setup(tmp_path / "b", 0)
    trainer_b.fit(loader_b, epochs=2)
    # A fresh process: different initial weights, RNG and loader objects.
    model_c, trainer_c, loader_c = _resume_setup(tmp_path / "b", 123)
    result = trainer_c.fit(loader_c, epochs=4, resume=True)
    wa, wc = weights(model_a), weights(model_c)
    assert wa.keys() == wc.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wc[key], err_msg=key)
    assert result.epochs_run == 4
    assert [r["epoch"] for r in read_metrics(tmp_path / "b")] == [1, 2, 3, 4]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    calls = {"n": 0}
    per_epoch = 10  # 240 examples / batch 24

    def loss_fn(z, y):
        calls["n"] += 1
        loss = F.cross_entropy(z, y)
        if calls["n"] == 2 * per_epoch + 4:  # epoch 3, batch 4
            return loss * float("nan")
        return loss

    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(blobs(), batch_size=24)
    trainer = Trainer(model, opt, loss_fn=loss_fn, run_dir=tmp_path, progress=False, log=None)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 3, batch 4; try a "
                       r"lower --lr.*last good checkpoint \(epoch 2\)"):
        trainer.fit(loader, epochs=5)
    assert ckpt.load(tmp_path / "checkpoint.npz")["epoch"] == 2


def test_early_stopping_restores_best_weights(tmp_path):
    nl.manual_seed(0)
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train = DataLoader(blobs(), batch_size=16, shuffle=True, seed=0)
    # Validation labels disagree with training: val loss rises as training succeeds.
    val = DataLoader(blobs(flip=True), batch_size=240)
    trainer = Trainer(model, opt, run_dir=tmp_path, early_stopping=EarlyStopping(patience=2),
                      progress=False, log=None)
    result = trainer.fit(train, val, epochs=20)
    val_losses = [r["loss"] for r in result.history if r["phase"] == "val"]
    assert result.stopped_early and result.epochs_run == result.best_epoch + 2
    assert result.best_metric == min(val_losses) < val_losses[-1]
    assert trainer.evaluate(val)["loss"] == pytest.approx(result.best_metric, rel=1e-6)
    best = ckpt.load_state_dict(tmp_path / "best.npz")
    for key, value in weights(model).items():
        np.testing.assert_array_equal(value, best[key])


def test_bad_arguments():
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler_step"):
        Trainer(model, opt, scheduler_step="step")
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        Trainer(model, opt, progress=False).fit(DataLoader(blobs(), 32), epochs=1, resume=True)


def test_progress_bar_on_a_terminal(monkeypatch, capsys):
    import sys

    from neuralab.train.progress import ProgressBar

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = ProgressBar(range(5), total=5, desc="epoch 1", every=2)
    seen = []
    for i in bar:
        seen.append(i)
        bar.update(loss=0.5, acc=0.25)
    bar.close()
    assert seen == [0, 1, 2, 3, 4]
    assert "epoch 1" in capsys.readouterr().err


class _WithAuxHead(nn.Module):
    """A classifier that, like GoogLeNet, returns (logits, aux) in training and names its loss."""

    def __init__(self):
        super().__init__()
        self.body = small_model()
        self.aux = nn.Linear(8, 3)
        self.calls = 0

    def forward(self, x):
        logits = self.body(x)
        return (logits, self.aux(x)) if self.training else logits

    def criterion(self, outputs, target):
        self.calls += 1
        if isinstance(outputs, tuple):
            logits, aux = outputs
            return F.cross_entropy(logits, target) + 0.3 * F.cross_entropy(aux, target)
        return F.cross_entropy(outputs, target)


def test_trainer_uses_the_models_criterion_and_scores_the_main_logits():
    nl.manual_seed(0)
    model = _WithAuxHead()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress=False)
    loader = DataLoader(blobs(), batch_size=40, shuffle=True, seed=0)
    first = trainer.train_epoch(loader, 1)
    for epoch in range(2, 6):
        last = trainer.train_epoch(loader, epoch)
    assert model.calls == 5 * len(loader)
    assert last["loss"] < first["loss"]
    assert last["acc1"] > 0.9  # accuracy of the main logits, not of the (logits, aux) tuple
    assert model.aux.weight.grad is not None  # the auxiliary head was trained too
    assert trainer.evaluate(loader)["acc1"] > 0.9


def test_accuracy_only_for_a_classifiers_logits_and_class_targets():
    """(N, 1) logits with float targets (a regression or a binary logit) get the loss only: an
    argmax over one column would report a meaningless accuracy. A classifier keeps acc1."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 1))).astype(np.float32)
    nl.manual_seed(0)
    model = nn.Linear(8, 1)
    lines = []
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.05), loss_fn=F.mse_loss,
                      progress=False, log=lines.append)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    result = trainer.fit(loader, loader, loader, epochs=2)
    for record in result.history:
        assert "acc1" not in record and "err1" not in record, record
        assert np.isfinite(record["loss"])
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert not any("acc" in line for line in lines), lines
    classifier = small_model()
    trainer = Trainer(classifier, optim.SGD(classifier.parameters(), lr=0.1), progress=False,
                      log=None)
    blob_loader = DataLoader(blobs(), batch_size=40)
    assert {"acc1", "err1"} <= set(trainer.train_epoch(blob_loader, 1))
    assert {"acc1", "err1", "acc5", "err5"} <= set(trainer.evaluate(blob_loader))
