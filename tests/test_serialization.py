"""nl.save / nl.load: PyTorch's checkpoint idioms without pickle, and PyTorch's own zip files read
without running code."""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import neuralab as nl


def _model():
    nl.manual_seed(0)
    return nl.nn.Sequential(nl.nn.Linear(3, 4), nl.nn.ReLU(), nl.nn.Linear(4, 2))


def _step(model, opt, seed):
    x = nl.tensor(np.random.default_rng(seed).standard_normal((5, 3)).astype(np.float32))
    opt.zero_grad()
    loss = (model(x) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.item()


@pytest.mark.parametrize("name", ["ckpt.pt", "ckpt.pth", "ckpt.tar", "weights"])
def test_checkpoint_round_trip_resumes_training_identically(tmp_path, name):
    # Two runs compared bit for bit: a thread count that follows the load could differ.
    nl.set_num_threads(1)
    model = _model()
    opt = nl.optim.Adam(model.parameters(), lr=0.01)
    for s in range(3):
        _step(model, opt, s)
    path = tmp_path / name
    nl.save({"epoch": 3, "model_state_dict": model.state_dict(),
             "optimizer_state_dict": opt.state_dict(), "loss": 0.25}, path)
    ckpt = nl.load(path, weights_only=True)
    assert ckpt["epoch"] == 3 and ckpt["loss"] == 0.25
    other = _model()
    other.load_state_dict(ckpt["model_state_dict"])
    other_opt = nl.optim.Adam(other.parameters(), lr=0.01)
    other_opt.load_state_dict(ckpt["optimizer_state_dict"])
    assert [_step(model, opt, 9), _step(model, opt, 10)] == \
        [_step(other, other_opt, 9), _step(other, other_opt, 10)]


def test_values_types_and_structure_survive(tmp_path):
    shared = nl.tensor([1.0, 2.0], requires_grad=True)
    obj = {
        "t": shared, "again": shared, "p": nl.nn.Parameter(nl.zeros(2)),
        "i64": nl.tensor([1, 2]), "f64": nl.tensor(np.arange(3.0), dtype=nl.float64),
        "arr": np.arange(6, dtype=np.int16).reshape(2, 3), "scalar": np.float32(1.5),
        "nested": [(1, 2.5, "s", None, True, b"\x00\xff"), {0: "int key", (1, 2): "tuple"}],
        "ordered": OrderedDict([("b", 1), ("a", 2)]), "inf": math.inf, "big": 2**70,
    }
    buffer = io.BytesIO()
    nl.save(obj, buffer)
    buffer.seek(0)
    back = nl.load(buffer)
    assert back["t"] is back["again"] and back["t"].requires_grad
    assert isinstance(back["p"], nl.nn.Parameter)
    assert back["i64"].dtype == np.int64 and back["f64"].dtype == np.float64
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    assert back["arr"].dtype == np.int16 and back["scalar"].dtype == np.float32
    assert back["nested"] == [(1, 2.5, "s", None, True, b"\x00\xff"),
                              {0: "int key", (1, 2): "tuple"}]
    assert isinstance(back["ordered"], OrderedDict) and list(back["ordered"]) == ["b", "a"]
    assert back["inf"] == math.inf and back["big"] == 2**70
    # No pickle anywhere in the file: a JSON description and .npy arrays.
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as zf:
        assert all(n == "neuralab.json" or n.endswith(".npy") for n in zf.namelist())


def test_whole_module_and_unknown_types_are_refused_with_the_fix(tmp_path):
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        nl.save(_model(), tmp_path / "m.pt")
    with pytest.raises(TypeError, match=r"optimizer.state_dict\(\)"):
        nl.save({"opt": nl.optim.SGD(_model().parameters(), lr=0.1)}, tmp_path / "o.pt")
    with pytest.raises(TypeError, match="set"):
        nl.save({"x": {1, 2}}, tmp_path / "s.pt")
    assert not (tmp_path / "m.pt").exists()


def test_corrupt_truncated_and_pickle_files_name_the_file(tmp_path):
    path = tmp_path / "good.pt"
    nl.save({"w": nl.randn(100, 100)}, path)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ValueError, match="cut.pt"):
        nl.load(cut)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="junk.pth"):
        nl.load(junk)
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(ValueError, match="pickle"):
        nl.load(legacy)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        nl.load(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="CPU"):
        nl.load(path, map_location="cuda:0")
    assert nl.load(path, map_location="cpu")["w"].shape == (100, 100)
    assert nl.load(path, map_location=lambda storage, loc: storage)["w"].shape == (100, 100)


def test_reads_pytorch_state_dicts_and_refuses_code(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.pt"
    torch.save({"model": net.state_dict(), "epoch": 7, "half": torch.arange(6).view(2, 3).t()},
               path)
    ckpt = nl.load(path)
    assert ckpt["epoch"] == 7
    np.testing.assert_array_equal(ckpt["half"].array, torch.arange(6).view(2, 3).t().numpy())
    ours = _model()
    ours.load_state_dict(ckpt["model"])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(nl.tensor(x)).array,
                               net(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    whole = tmp_path / "whole.pt"
    torch.save(net, whole)
    with pytest.raises(ValueError, match="torch.nn.modules"):
        nl.load(whole)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, evil)
    with pytest.raises(ValueError, match=r"builtins?__\.print|builtins\.print"):
        nl.load(evil)


def test_zero_dim_values_keep_their_shape():
    # BatchNorm's num_batches_tracked is 0-d: a checkpoint must load back into the same model
    # with strict=True (it used to come back as shape (1,)), as must 0-d arrays and NumPy scalars.
    model = nl.nn.Sequential(nl.nn.Linear(3, 4), nl.nn.BatchNorm1d(4))
    model(nl.randn(5, 3))
    buffer = io.BytesIO()
    nl.save({"model": model.state_dict(), "a": np.array(2.5), "s": np.float32(1.5),
             "t": nl.tensor(7)}, buffer)
    buffer.seek(0)
    loaded = nl.load(buffer)
    assert loaded["model"]["1.num_batches_tracked"].shape == ()
    assert int(loaded["model"]["1.num_batches_tracked"]) == 1
    assert loaded["a"].shape == () and loaded["t"].shape == ()
    assert type(loaded["s"]) is np.float32 and loaded["s"] == 1.5
    fresh = nl.nn.Sequential(nl.nn.Linear(3, 4), nl.nn.BatchNorm1d(4))
    fresh.load_state_dict(loaded["model"], strict=True)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k], v)
