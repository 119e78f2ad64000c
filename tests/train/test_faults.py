"""Fault injection on the training loop and its files: blown-up weights, corrupt and truncated
checkpoints, kill -9 during a write, two writers of one run, resumed runs' metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.data import DataLoader, TensorDataset
from neuralab.fileio import atomic_savez, atomic_write_bytes, remove_stale_parts
from neuralab.train import Trainer, TrainingDiverged
from neuralab.train import checkpoint as ckpt
from neuralab.train.checkpoint import CheckpointError
from neuralab.train.rundir import RunDirLocked, lock_run_dir, read_metrics

ROOT = Path(__file__).resolve().parents[2]


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(3, 8))
    y = np.arange(n) % 3
    return TensorDataset((centers[y] + rng.normal(0, 1, (n, 8))).astype(np.float32), y)


def setup(run_dir, opt="sgd", lr=0.05, sched=None, seed=0):
    nl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = (optim.SGD(model.parameters(), lr=lr, momentum=0.9) if opt == "sgd"
                 else optim.Adam(model.parameters(), lr=lr))
    scheduler = sched(optimizer) if sched else None
    loader = DataLoader(blobs(), batch_size=32, shuffle=True, seed=1)
    trainer = Trainer(model, optimizer, scheduler=scheduler, run_dir=run_dir, progress=False,
                      log=None)
    return model, trainer, loader


def finite(path):
    return all(np.isfinite(v).all() for v in ckpt.load(path)["model"].values())


# ---- a non-finite state never replaces the last good checkpoint --------------------------------

def test_weights_blown_up_by_the_last_step_keep_the_last_good_checkpoint(tmp_path):
    """The issue's repro in the API: a huge exponential decay factor lets the loss of every
    batch stay finite while the last step of epoch 2 makes the weights infinite."""
    sched = lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=1e40)  # noqa: E731
    model, trainer, loader = setup(tmp_path, sched=sched)
    val = DataLoader(blobs(30, seed=2), batch_size=30)
    with np.errstate(all="ignore"), pytest.raises(
            TrainingDiverged, match=r"epoch 2.*last good checkpoint \(epoch 1\)"):
        trainer.fit(loader, val, epochs=4)
    saved = ckpt.load(tmp_path / "checkpoint.npz")
    assert saved["epoch"] == 1 and finite(tmp_path / "checkpoint.npz")
    assert [r["epoch"] for r in read_metrics(tmp_path)] == [1, 1]  # no record of epoch 2


def test_non_finite_weights_in_the_first_epoch_write_no_checkpoint(tmp_path):
    model, trainer, loader = setup(tmp_path)

    calls = []

    def poison():
        calls.append(1)
        if len(calls) == 3:  # the last of the epoch's three batches
            model[0].weight.array[0, 0] = np.inf

    trainer.optimizer.step = poison
    with pytest.raises(TrainingDiverged, match=r"weights became NaN or infinite during epoch 1 "
                       r"\(0.weight\).*no checkpoint was written"):
        trainer.fit(loader, epochs=2)
    assert not (tmp_path / "checkpoint.npz").exists()


def test_non_finite_buffer_or_optimizer_state_is_caught(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=1)
    real_step = trainer.optimizer.step
    calls = []

    def step():
        real_step()
        calls.append(1)
        if len(calls) == 3:  # the last batch of epoch 2
            for state in trainer.optimizer.state.values():
                state["momentum_buffer"][...] = np.nan

    trainer.optimizer.step = step
    with pytest.raises(TrainingDiverged, match="optimizer state"):
        trainer.fit(loader, epochs=3, resume=True)
    assert ckpt.load(tmp_path / "checkpoint.npz")["epoch"] == 1


def test_non_finite_validation_loss_keeps_the_checkpoint(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=1)
    x = np.full((4, 8), np.nan, dtype=np.float32)
    bad_val = DataLoader(TensorDataset(x, np.zeros(4, dtype=np.int64)), batch_size=4)
    with np.errstate(all="ignore"), pytest.raises(
            TrainingDiverged, match=r"validation loss became nan after epoch 2.*epoch 1"):
        trainer.fit(loader, bad_val, epochs=3, resume=True)
    assert ckpt.load(tmp_path / "checkpoint.npz")["epoch"] == 1


# ---- checkpoints: truncated, corrupt, foreign ----------------------------------------------------

def _good_checkpoint(tmp_path):
    model, trainer, loader = setup(tmp_path / "run")
    trainer.fit(loader, epochs=1)
    return tmp_path / "run" / "checkpoint.npz"


@pytest.mark.parametrize("cut", [0, 1, 30, 100, 0.5, -22, -1])
def test_truncated_checkpoint_names_the_file(tmp_path, cut):
    path = _good_checkpoint(tmp_path)
    raw = path.read_bytes()
    n = int(len(raw) * cut) if isinstance(cut, float) else cut
    path.write_bytes(raw[:n])
    with pytest.raises(CheckpointError, match=str(path)):
        ckpt.load(path)


@pytest.mark.parametrize("offset", [0.1, 0.4, 0.7, 0.95])
def test_corrupt_checkpoint_bytes_name_the_file(tmp_path, offset):
    path = _good_checkpoint(tmp_path)
    raw = bytearray(path.read_bytes())
    start = int(len(raw) * offset)
    raw[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    try:
        tree = ckpt.load(path)
    except CheckpointError as err:
        assert str(path) in str(err)
    else:  # the bytes fell inside an array: the file still reads, the values differ
        assert tree["epoch"] == 1


@pytest.mark.parametrize("tree", [b"{not json", b"\xff\xfe", b'{"__array__": "a99"}',
                                  b'{"__dict__": [[1]]}', b'{"__scalar__": "a0"}'])
def test_corrupt_checkpoint_tree_names_the_file(tmp_path, tree):
    path = tmp_path / "c.npz"
    np.savez(path, __tree__=np.frombuffer(tree, dtype=np.uint8))
    with pytest.raises(CheckpointError, match=str(path)):
        ckpt.load(path)


def test_missing_and_foreign_files_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.load(tmp_path / "none.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    for load in (ckpt.load, ckpt.load_state_dict):
        with pytest.raises(CheckpointError, match=str(text)):
            load(text)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __tree__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match=str(pickled)):
        ckpt.load(pickled)
    other = tmp_path / "other.npz"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "not an array")
    with pytest.raises(CheckpointError, match=str(other)):
        ckpt.load(other)


def test_resume_from_a_checkpoint_of_another_model_or_optimizer(tmp_path):
    path = _good_checkpoint(tmp_path)
    run = path.parent
    nl.manual_seed(0)
    wider = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    trainer = Trainer(wider, optim.SGD(wider.parameters(), lr=0.1), run_dir=run,
                      progress=False, log=None)
    loader = DataLoader(blobs(), batch_size=32)
    with pytest.raises(CheckpointError, match=f"{path} does not fit this model"):
        trainer.fit(loader, epochs=2, resume=True)
    model, trainer, loader = setup(run, opt="adam")
    with pytest.raises(CheckpointError, match="written with optimizer SGD but this run uses Adam"):
        trainer.fit(loader, epochs=2, resume=True)
    sched = lambda o: optim.lr_scheduler.StepLR(o, step_size=1)  # noqa: E731
    model, trainer, loader = setup(run, sched=sched)
    with pytest.raises(CheckpointError, match="scheduler None but this run uses StepLR"):
        trainer.fit(loader, epochs=2, resume=True)
    assert ckpt.load(path)["epoch"] == 1


def test_state_dict_file_truncated(tmp_path):
    path = tmp_path / "w.npz"
    ckpt.save_state_dict(path, {"w": np.ones((50, 50), np.float32)})
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointError, match=str(path)):
        ckpt.load_state_dict(path)


# ---- interrupted writes: kill -9 and leftovers ---------------------------------------------------

KILLER = """
import os, signal, sys
import numpy as np
from neuralab.fileio import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "wb") as fh:
        np.save(fh, np.zeros(1000))
        fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_write(path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", KILLER, str(path)], env=env, timeout=60)
    assert out.returncode == -signal.SIGKILL


def test_kill_9_during_a_checkpoint_write_keeps_the_old_one_and_the_next_write_cleans_up(
        tmp_path):
    path = tmp_path / "checkpoint.npz"
    ckpt.save(path, {"epoch": 1})
    _killed_write(path)
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1 and parts[0].name.startswith(".checkpoint.npz.")
    assert ckpt.load(path)["epoch"] == 1
    ckpt.save(path, {"epoch": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]
    assert ckpt.load(path)["epoch"] == 2


def test_leftovers_of_a_live_writer_are_kept(tmp_path):
    target = tmp_path / "metrics.jsonl"
    live = tmp_path / f".metrics.jsonl.{os.getppid()}@{_host()}.abc123.part"
    live.write_text("partial")
    legacy_new = tmp_path / ".metrics.jsonl.zzz.part"
    legacy_new.write_text("partial")
    atomic_write_bytes(target, b"{}\n")
    assert live.exists() and legacy_new.exists()
    os.utime(legacy_new, (0, 0))
    assert remove_stale_parts(target) == [legacy_new]


def _host():
    from neuralab.fileio import _host

    return _host()


def test_resume_cleans_leftover_parts_of_a_killed_run(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=1)
    _killed_write(tmp_path / "checkpoint.npz")
    _killed_write(tmp_path / "metrics.jsonl")
    assert len(list(tmp_path.glob("*.part"))) == 2
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=2, resume=True)
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_atomic_savez_failure_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="entry 'a'.*never saves pickles"):
        atomic_savez(tmp_path / "x.npz", a=np.array([object()], dtype=object))
    assert list(tmp_path.iterdir()) == []


# ---- extending a finished run ----------------------------------------------------------------

def test_extending_a_finished_run_drops_its_old_test_record(tmp_path):
    test = DataLoader(blobs(30, seed=3), batch_size=30)
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, None, test, epochs=2)
    assert [r["phase"] for r in read_metrics(tmp_path)].count("test") == 1
    model, trainer, loader = setup(tmp_path)
    result = trainer.fit(loader, None, test, epochs=3, resume=True)
    records = read_metrics(tmp_path)
    assert [(r["epoch"], r["phase"]) for r in records] == [
        (1, "train"), (2, "train"), (3, "train"), (3, "test")]
    assert [r["phase"] for r in result.history].count("test") == 1
    model, trainer, loader = setup(tmp_path)  # resuming a finished run without extending it
    trainer.fit(loader, None, test, epochs=3, resume=True)
    assert [r["phase"] for r in read_metrics(tmp_path)].count("test") == 1


def test_truncated_metrics_line_is_skipped_and_replaced_on_resume(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=2)
    log = tmp_path / "metrics.jsonl"
    log.write_text(log.read_text() + '{"epoch": 3, "pha')  # a crash mid-line
    assert len(read_metrics(tmp_path)) == 2
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=3, resume=True)
    assert [r["epoch"] for r in read_metrics(tmp_path)] == [1, 2, 3]
    assert all(json.loads(line) for line in log.read_text().splitlines())


# ---- two writers of one run ----------------------------------------------------------------------

HOLDER = """
import sys, time
from neuralab.train.rundir import lock_run_dir
with lock_run_dir(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_trainer_on_a_locked_run_is_refused(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        model, trainer, loader = setup(tmp_path)
        with pytest.raises(RunDirLocked, match=f"in use by process {holder.pid} on "):
            trainer.fit(loader, epochs=2, resume=True)
        assert ckpt.load(tmp_path / "checkpoint.npz")["epoch"] == 1
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: its lock is stale and taken over.
    assert (tmp_path / ".lock").exists()
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=2, resume=True)
    assert not (tmp_path / ".lock").exists()
    assert [r["epoch"] for r in read_metrics(tmp_path)] == [1, 2]


def test_lock_is_reentrant_in_one_process_and_released(tmp_path):
    with lock_run_dir(tmp_path) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with lock_run_dir(tmp_path):
            pass
        assert lock.exists()
    assert not lock.exists()


def test_unreadable_fresh_lock_is_respected(tmp_path):
    (tmp_path / ".lock").write_text("")
    with pytest.raises(RunDirLocked, match="another process"):
        with lock_run_dir(tmp_path):
            pass
    os.utime(tmp_path / ".lock", (0, 0))  # an old empty lock: a crash while creating it
    with lock_run_dir(tmp_path):
        pass


def test_race_of_two_resumes_lets_exactly_one_write(tmp_path):
    model, trainer, loader = setup(tmp_path)
    trainer.fit(loader, epochs=1)
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[2])
        from tests.train.test_faults import setup
        from neuralab.train.rundir import RunDirLocked
        model, trainer, loader = setup(sys.argv[1])
        try:
            trainer.fit(loader, epochs=30, resume=True)
        except RunDirLocked:
            print("refused")
        else:
            print("trained")
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(ROOT)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    records = read_metrics(tmp_path)
    epochs = [r["epoch"] for r in records]
    if outs == ["refused", "trained"]:
        assert epochs == list(range(1, 31))
    else:  # the first finished before the second started: the second resumed a finished run
        assert outs == ["trained", "trained"] and epochs == list(range(1, 31))
