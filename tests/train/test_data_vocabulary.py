"""The data vocabulary of the commands: the three CIFAR-10 forms through ``--data cifar10``, one
message when nothing is found (and no folder left behind), ``neuralab data``, ``neuralab cache``,
``neuralab presets``, ``train --help``, ``--image-size``, ``--subset`` and ``--replan``."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from neuralab.cli import main
from neuralab.data.datasets.cifar import CIFAR10
from neuralab.train import datasets


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NEURALAB_DATA", raising=False)
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    monkeypatch.setenv("NEURALAB_PROGRESS", "0")


def _add(tar, name, blob):
    info = tarfile.TarInfo(name)
    info.size = len(blob)
    tar.addfile(info, io.BytesIO(blob))


def _python_tarball(folder, per_batch=4):
    rng = np.random.default_rng(0)
    path = folder / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"labels": [i % 10 for i in range(per_batch)],
                     b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)}
            _add(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))
        meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
    return path


def _binary_tarball(folder, per_batch=4):
    rng = np.random.default_rng(1)
    path = folder / "cifar-10-binary.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            rows = np.concatenate([(np.arange(per_batch) % 10).astype(np.uint8)[:, None],
                                   rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)], 1)
            _add(tar, f"cifar-10-batches-bin/{name}", rows.tobytes())
        _add(tar, "cifar-10-batches-bin/batches.meta.txt",
             "\n".join(f"c{i}" for i in range(10)).encode())
    return path


def _jpeg_archive(folder, per_class=2):
    rng = np.random.default_rng(2)
    path = folder / "cifar10-jpg.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for c in ("airplane", "automobile", "bird"):
                for i in range(per_class):
                    buf = io.BytesIO()
                    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
                        buf, "JPEG")
                    _add(tar, f"cifar10-jpg/{split}/{c}/{i:04d}.jpg", buf.getvalue())
    return path


@pytest.mark.parametrize("form", ["python", "binary", "jpeg"])
def test_cifar10_accepts_three_forms(tmp_path, monkeypatch, form):
    root = tmp_path / "data"
    root.mkdir()
    if form == "python":
        path = _python_tarball(root)
        monkeypatch.setattr(CIFAR10, "md5", hashlib.md5(path.read_bytes()).hexdigest())
        n_train, n_test = 20, 4
    elif form == "binary":
        path = _binary_tarball(root)
        monkeypatch.setattr(CIFAR10, "binary_md5", hashlib.md5(path.read_bytes()).hexdigest())
        n_train, n_test = 20, 4
    else:
        _jpeg_archive(root)
        n_train, n_test = 6, 6
    found = datasets.locate("cifar10", root)
    assert found.path is not None and found.verified in (True, False)
    if form != "jpeg":
        assert found.verified  # the published MD5 (patched to the synthetic file's)
    splits = datasets.build("cifar10", root=root, val_split=0.0, image_size=None)
    assert len(splits.train) == n_train and len(splits.test) == n_test
    assert splits.input_shape == (3, 32, 32)
    bigger = datasets.build("cifar10", root=root, val_split=0.0, image_size="40x48")
    assert bigger.input_shape == (3, 40, 48) and bigger.train.data.shape[1:] == (40, 48, 3)


def test_cifar10_missing_lists_where_and_the_three_forms_and_creates_nothing(tmp_path):
    root = tmp_path / "nowhere" / "datasets"
    with pytest.raises(datasets.DataNotFound) as info:
        datasets.build("cifar10", root=root, download=True)
    message = str(info.value)
    for part in (str(root), str(root / "cifar10"), "cifar-10-python.tar.gz",
                 "cifar-10-binary.tar.gz", "cifar10-jpg.tar.gz", "--data-root"):
        assert part in message
    assert not (tmp_path / "nowhere").exists()


def test_train_without_cifar_is_one_message_exit_1_no_folder(tmp_path, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    code = main(["train", "--preset", "resnet20-cifar10-onecycle", "--data-root", str(root),
                 "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.count("neuralab train:") == 1 and "cifar-10-binary.tar.gz" in err
    assert not list(root.iterdir()) and not list((tmp_path / "runs").glob("*"))
    code = main(["train", "--preset", "resnet20-cifar10-onecycle", "--data-root",
                 str(tmp_path / "absent")])
    err = capsys.readouterr().err
    assert code == 2 and "cifar-10-python.tar.gz" in err and not (tmp_path / "absent").exists()


def test_train_on_jpeg_archive_with_image_size_and_limit(tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    _jpeg_archive(root, per_class=4)
    code = main(["train", "--model", "mlp", "--data", "cifar10", "--data-root", str(root),
                 "--image-size", "16", "--epochs", "1", "--limit", "8", "--val-split", "0",
                 "--run-dir", str(tmp_path / "run"), "--threads", "1"])
    out = capsys.readouterr()
    assert code == 0, out.err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["settings"]["image_size"] == "16"
    assert "image-folder archive" in out.out and "8 train" in out.out
    assert "cached 12 decoded images" in out.err  # the cache is announced
    assert main(["train", "--data", "mnist", "--image-size", "big"]) == 2
    assert "--image-size" in capsys.readouterr().err


def test_data_command_lists_where_found_and_how_to_get(tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    _jpeg_archive(root)
    assert main(["data", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    for name in datasets.INFO:
        assert f"\n{name}  -  " in "\n" + out
    assert f"found image-folder archive {root / 'cifar10-jpg.tar.gz'}" in out
    assert "fashion-mnist" in out and "NOT FOUND" in out and "get it:" in out
    assert f"looked in: {root}, {root / 'kmnist'}" in out
    assert main(["data", "cifar1"]) == 2
    assert "did you mean cifar10" in capsys.readouterr().err


def test_cache_lists_and_clears(tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    _jpeg_archive(root)
    datasets.build("cifar10", root=root, val_split=0.0)
    capsys.readouterr()
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert out.count(".npz") == 2 and "decoded images 32x32x3 of cifar10-jpg.tar.gz" in out
    assert main(["cache", "clear", "nothing-like-this"]) == 1
    capsys.readouterr()
    assert main(["cache", "clear"]) == 0
    assert "freed" in capsys.readouterr().out
    assert not list((tmp_path / "cache").iterdir())
    assert main(["cache"]) == 0 and "no caches" in capsys.readouterr().out


def test_help_lists_data_sets_and_presets(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in list(datasets.DATASETS) + ["resnet20-cifar10-onecycle", "--replan", "--image-size"]:
        assert name in out
    assert main(["presets"]) == 0 and "resnet20-cifar10-onecycle" in capsys.readouterr().out
    assert main(["train", "--list-presets"]) == 0
    assert "max_lr=0.2" in capsys.readouterr().out


def test_subset_asked_for_is_not_called_missing(tmp_path, capsys):
    code = main(["train", "--subset", "--epochs", "1", "--limit", "64", "--run-dir",
                 str(tmp_path / "r"), "--threads", "1"])
    err = capsys.readouterr().err
    assert code == 0 and "as asked (--subset)" in err and "not found" not in err


def test_resume_replan_continues_the_new_plan(tmp_path, capsys):
    def lrs(run):
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return [r["lr"] for r in rows if r["phase"] == "train"]

    common = ["--subset", "--limit", "128", "--threads", "1", "--lr", "0.04"]
    assert main(["train", *common, "--epochs", "4", "--run-dir", str(tmp_path / "a")]) == 0
    assert main(["train", *common, "--epochs", "2", "--run-dir", str(tmp_path / "b")]) == 0
    assert main(["train", "--resume", str(tmp_path / "b"), "--epochs", "4", "--replan"]) == 0
    assert "--replan" in capsys.readouterr().err
    # Epochs 1-2 ran under the 2-epoch plan; epochs 3-4 follow the 4-epoch one exactly.
    np.testing.assert_allclose(lrs(tmp_path / "b")[2:], lrs(tmp_path / "a")[2:], rtol=1e-9)
    assert lrs(tmp_path / "b")[3] > 0
    assert main(["train", *common, "--epochs", "2", "--run-dir", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "c"), "--epochs", "3"]) == 0
    assert "learning rate 0" in capsys.readouterr().err and lrs(tmp_path / "c")[-1] == 0
    assert main(["train", "--replan"]) == 2


def test_shared_cifar10_jpeg_through_train_data_root(shared_data, tmp_path, capsys):
    """The README command's data: the shared image-folder archive is found and verified."""
    found = datasets.locate("cifar10", shared_data)
    if found.path is None:
        pytest.skip("no CIFAR-10 in the shared data")
    assert found.form == "image-folder archive" and found.verified


# ---- the same names in run, summary, gradcheck and report ------------------------------------

def test_run_maps_data_flags_to_configuration_keys(tmp_path, monkeypatch):
    from neuralab.experiments import command

    seen = {}

    def run_experiment(name, **options):  # records what the command passes, runs nothing
        seen.update(options)
        raise FileNotFoundError("stopped before the run")

    monkeypatch.setattr(command, "run_experiment", run_experiment)
    assert main(["run", "caltech101", "synthetic=true", "--data-root", str(tmp_path)]) == 2
    assert seen["overrides"] == {"synthetic": True, "data_root": str(tmp_path)}


def test_run_flag_errors_suggest_and_say_what_applies(capsys):
    assert main(["run", "xor", "--data-root", "/tmp"]) == 2
    assert "--data-root does not apply" in capsys.readouterr().err
    assert main(["run", "xor", "--dta-root", "/tmp"]) == 2
    assert "did you mean --data-root?" in capsys.readouterr().err
    assert main(["run", "optimizers-mnist", "dat_root=/tmp"]) == 2
    err = capsys.readouterr().err
    assert "did you mean data_root=?" in err and err.startswith("neuralab run optimizers-mnist:")
    assert "run optimizers-mnist: run" not in err


def test_report_error_names_the_command_once(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralab report: ") and err.count("report:") == 1


def test_summary_and_gradcheck_take_the_data_options(capsys):
    assert main(["summary", "mlp", "--data", "cifar10", "--image-size", "16"]) == 0
    out = capsys.readouterr().out
    assert "768" in out  # in_features = 3 * 16 * 16
    assert main(["summary", "resnet20", "--data", "cifar10", "--image-size", "16"]) == 0
    assert "16x16" in capsys.readouterr().out
    assert main(["summary", "lenet5", "--image-size", "32"]) == 2
    assert "give --data NAME" in capsys.readouterr().err
    assert main(["gradcheck", "mlp", "--data", "kmnist", "--samples", "1", "--no-progress"]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_load_model_rebuilds_a_trained_run(tmp_path):
    from neuralab.train import checkpoint, load_model

    run = tmp_path / "run"
    assert main(["train", "--subset", "--limit", "64", "--epochs", "1", "--threads", "1",
                 "--model", "mlp", "--run-dir", str(run)]) == 0
    model = load_model(run)
    saved = checkpoint.load(run / "checkpoint.npz")["model"]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(value), saved[name])
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model(tmp_path / "nothing")


def _caltech_archive(path, classes=("accordion", "airplanes", "anchor"), per_class=5):
    rng = np.random.default_rng(3)
    with tarfile.open(path, "w:gz") as tar:
        for c in [*classes, "BACKGROUND_Google"]:
            for i in range(per_class):
                buf = io.BytesIO()
                shape = (40 + 3 * i, 50) if i % 2 else (30, 30)  # sizes differ; some grey
                pixels = rng.integers(0, 256, (*shape, 3) if i % 3 else shape, dtype=np.uint8)
                Image.fromarray(pixels).save(buf, "JPEG")
                _add(tar, f"caltech101-160px/{c}/image_{i + 1:04d}.jpg", buf.getvalue())
    return path


def test_caltech101_archive_extracted_once_split_kept_and_lazy(tmp_path, monkeypatch, capsys):
    import neuralab.data.datasets.imagefolder as mod
    from neuralab.data.dataloader import DataLoader

    root = tmp_path / "data"
    root.mkdir()
    _caltech_archive(root / "caltech101-160px.tar.gz")
    monkeypatch.setattr(mod, "LAZY_BYTES", 1000)
    splits = datasets.build("caltech101", root=root, image_size="24x20", train_per_class=3)
    err = capsys.readouterr().err
    assert "extracted" in err and str(tmp_path / "cache" / "caltech101") in err
    assert splits.val is None  # the data set's own split: no validation part taken
    assert len(splits.train) == 9 and len(splits.test) == 6 and splits.num_classes == 3
    assert splits.input_shape == (3, 24, 20)
    assert isinstance(splits.train.data, mod.LazyImages) and splits.train.data.decoded == 0
    x, y = next(iter(DataLoader(splits.train, batch_size=4)))
    assert x.shape == (4, 3, 24, 20) and splits.train.data.decoded == 4
    again = datasets.build("caltech101", root=root, image_size=24, train_per_class=3)
    assert "extracted" not in capsys.readouterr().err and len(again.train) == 9
    assert main(["cache"]) == 0 and "caltech101" in capsys.readouterr().out


@pytest.mark.slow
def test_shared_caltech101_at_224_decodes_only_what_a_limited_run_uses(shared_data):
    import resource

    from neuralab.data.dataloader import DataLoader
    from neuralab.train.command import _limit

    if datasets.locate("caltech101", shared_data).path is None:
        pytest.skip("no Caltech-101 in the shared data")
    splits = datasets.build("caltech101", root=shared_data, image_size=224)
    assert len(splits.train) == 3030 and splits.num_classes == 101 and splits.val is None
    subset = _limit(splits.train, 200, 0)
    seen = sum(len(y.array) for _, y in DataLoader(subset, batch_size=50))
    assert seen == 200 and splits.train.data.decoded == 200
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 3 * 2**20  # KB: far from GBs


def test_data_lists_the_text_corpus_too(tmp_path, capsys):
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("To be, or not to be\n")
    assert main(["data", "tinyshakespeare", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "found text file" in out and "CHECKSUM MISMATCH" in out
    assert main(["train", "--data", "tinyshakespeare"]) == 2  # listed, not a --data of train
