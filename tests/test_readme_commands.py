"""Every `neuralab` command of the README works on a fresh machine: offline, with no data folders
beside the checkout (run from an empty folder). Commands that need data they cannot find fail
with one message saying where they looked and how to get it, leaving nothing behind."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from neuralab.cli import build_parser, main

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[str]:
    """The `neuralab ...` lines of the README's bash blocks, without comments."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.split("#", 1)[0].strip()
                if part.startswith("neuralab "):
                    lines.append(part)
    return lines


COMMANDS = readme_commands()
#: Shortened for the test suite (the full runs are what the README describes).
QUICK = ["--epochs", "1", "--limit", "64", "--threads", "1", "--no-progress"]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    home = tmp_path / "elsewhere" / "checkout"
    home.mkdir(parents=True)
    monkeypatch.chdir(home)
    monkeypatch.delenv("NEURALAB_DATA", raising=False)
    monkeypatch.setenv("NEURALAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    return home


def test_readme_has_the_commands():
    assert any("--preset resnet20-cifar10-onecycle" in c for c in COMMANDS)
    assert any(c.startswith("neuralab data") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command):
    argv = shlex.split(command)[1:]
    if "--help" in argv:
        return
    args = build_parser().parse_args(argv)
    assert args.handler is not None


@pytest.mark.parametrize("command", [c for c in COMMANDS if "--resume" not in c and
                                     "gradcheck resnet20" not in c])
def test_readme_command_runs_offline_without_shared_data(fresh, capsys, command):
    argv = shlex.split(command)[1:]
    if "--help" in argv:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        return
    if argv[0] == "train":
        argv += QUICK
    code = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    if argv[0] == "train" and "--preset" in argv:
        # ../shared/datasets does not exist here: one message, the three forms, no folder.
        assert code == 2 and "cifar-10-binary.tar.gz" in out.err
        assert not (fresh.parent / "shared").exists()
    elif argv[0] == "train" and "fashion-mnist" in argv:
        assert code == 1 and "Looked in" in out.err and "fashion-mnist" in out.err
    else:
        assert code == 0, out.err
