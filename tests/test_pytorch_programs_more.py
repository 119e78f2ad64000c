"""Ordinary PyTorch training programs run unchanged under neuralab, their imports pointed at it.

Each file in tests/pytorch_programs/ is a short PyTorch script of a different style (a VAE, a
DCGAN step, a char-level LSTM, a small ResNet, a tabular MLP with early stopping, a seq2seq with
attention, a custom autograd.Function with hooks, checkpointing, a Transformer encoder
classifier). It leaves its results in ``RESULT``. The test runs it under PyTorch (so that the
script is known to be right) and under neuralab, with the import lines rewritten as README's
"Coming from PyTorch" says, and checks what does not depend on the random numbers: it runs, the
losses are finite and fall, the shapes, the round trips.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "pytorch_programs"


def to_neuralab(source: str) -> str:
    """The import lines of a PyTorch program, pointed at neuralab (README's table)."""
    out = []
    for line in source.splitlines():
        if line.lstrip().startswith(("import ", "from ")):
            line = re.sub(r"\btorchvision\b", "neuralab.vision", line)
            line = re.sub(r"\btorch\b", "neuralab", line)
            line = re.sub(r"^(\s*)import neuralab$", r"\1import neuralab as torch", line)
            line = re.sub(r"^(\s*)import neuralab\.vision$",
                          r"\1import neuralab.vision as torchvision", line)
        out.append(line)
    return "\n".join(out) + "\n"


def run_program(name: str, backend: str) -> dict:
    path = PROGRAMS / f"{name}.py"
    source = path.read_text()
    if backend == "neuralab":
        source = to_neuralab(source)
    namespace = {"__name__": "__main__", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102  (our own test scripts)
    return namespace["RESULT"]


def falls(values, what="loss"):
    assert all(math.isfinite(v) for v in values), f"non-finite {what}: {values}"
    assert values[-1] < values[0], f"{what} did not fall: {values}"


def check_vae(r):
    falls(r["losses"])
    assert r["shape"] == (16, 1, 28, 28)


def check_dcgan(r):
    assert all(math.isfinite(v) and v > 0 for v in r["D"] + r["G"])
    assert r["shape"] == (8, 1, 16, 16)
    assert 0 < r["D_x"] < 1 and -1 <= r["range"][0] <= r["range"][1] <= 1  # tanh outputs


def check_charlstm(r):
    assert r["last"] < r["first"] and math.isfinite(r["first"])
    assert len(r["sample"]) == 20
    assert r["lr"] == pytest.approx(0.0, abs=1e-12)  # cosine annealing reaches eta_min
    assert 0 < r["norm"] < math.inf


def check_resnet(r):
    falls(r["losses"])
    assert r["params"] == 5266  # the same architecture as torch's, parameter for parameter
    assert 0 <= r["acc"] <= 1


def check_tabular(r):
    assert all(math.isfinite(v) for v in r["history"]) and r["best"] < r["history"][0]
    assert r["n_train"] == 320 and 1 <= r["epochs"] <= 25
    assert r["lrs"][0] == r["lrs"][1] <= 3e-3  # ReduceLROnPlateau acts on both groups
    assert r["acc"] > 0.6


def check_seq2seq(r):
    falls(r["losses"])
    assert r["attn_shape"] == (8, 7)
    assert all(s == pytest.approx(1.0, abs=1e-5) for s in r["attn_sum"])
    assert r["masked_zero"]  # masked_fill(-inf) then softmax: no weight on padding


def check_customfn(r):
    assert r["gradcheck"] is True and r["first"]
    falls(r["losses"])
    assert r["hooked"] == 12 and r["after"] == 12  # the backward hook, removed after training
    assert r["act"] == (64, 20) and r["hidden_grad"] == (64, 20) and r["calls"] == 3.0
    assert r["x_grad"] is None  # autograd.grad does not accumulate into .grad
    assert 0 <= r["acc"] <= 1


def check_saveload(r):
    assert r["same"] and r["resumed_equal"] and r["epoch"] == 2 and r["nbt"] == 3
    assert r["missing"] == ([], [])
    assert r["lr"] == pytest.approx(0.0025)
    assert r["keys"] == ["scale", "features.0.weight", "features.0.bias", "features.1.weight",
                         "features.1.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight",
                         "heads.b.bias", "bn.weight", "bn.bias", "bn.running_mean",
                         "bn.running_var", "bn.num_batches_tracked"]


def check_transformer(r):
    falls(r["losses"])
    assert r["probs"] == (16, 3) and r["rows"]


CHECKS = {name.removeprefix("check_"): fn for name, fn in globals().items()
          if name.startswith("check_")}


def test_every_program_has_a_check():
    assert sorted(CHECKS) == sorted(p.stem for p in PROGRAMS.glob("*.py"))


def test_imports_are_rewritten_as_readme_says():
    source = ("import torch\nimport torch.nn as nn\nfrom torch import nn\n"
              "import torch.nn.functional as F\nfrom torch.utils.data import DataLoader\n"
              "import torchvision\nfrom torchvision import datasets, transforms\nx = torch.ones(2)")
    assert to_neuralab(source).splitlines() == [
        "import neuralab as torch", "import neuralab.nn as nn", "from neuralab import nn",
        "import neuralab.nn.functional as F", "from neuralab.utils.data import DataLoader",
        "import neuralab.vision as torchvision",
        "from neuralab.vision import datasets, transforms", "x = torch.ones(2)"]


@pytest.mark.parametrize("backend", ["torch", "neuralab"])
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_program_runs(name, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    CHECKS[name](run_program(name, backend))
