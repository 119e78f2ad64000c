"""neuralab.kernels.allocator: glibc malloc's thresholds, set at import, switchable off."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from neuralab.kernels import allocator

ROOT = Path(__file__).resolve().parents[2]
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Allocates and fills four 8 MiB arrays (ResNet-20 activations at batch 128), frees them, 20
# times, in the main thread and in a second thread (whose blocks come from another malloc
# arena); prints the minor page faults of those loops and what neuralab's import set. glibc's
# own dynamic rule trims the 32 MiB freed at the top of the heap each time (twice the largest
# block seen, 16 MiB), so that every round maps its pages afresh.
_PROBE = """
import json, resource, threading
import numpy as np
import neuralab
from neuralab.kernels.allocator import malloc_settings

def churn():
    for _ in range(20):
        arrays = [np.empty(2 << 20, dtype=np.float32) for _ in range(4)]
        for a in arrays:
            a.fill(1.0)
        del arrays, a

churn(); worker = threading.Thread(target=churn); worker.start(); worker.join()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn(); worker = threading.Thread(target=churn); worker.start(); worker.join()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"faults": faults, "settings": malloc_settings()}))
"""


def _probe(malloc: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NEURALAB_MALLOC"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if malloc is not None:
        env["NEURALAB_MALLOC"] = malloc
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="malloc thresholds exist only in glibc")
def test_import_keeps_freed_arrays_for_reuse():
    tuned = _probe(None)
    assert tuned["settings"] == {"mmap_threshold": allocator.MMAP_THRESHOLD,
                                 "trim_threshold": allocator.TRIM_THRESHOLD,
                                 "arena_max": allocator.ARENA_MAX}
    # 160 arrays of 2048 pages each: untuned glibc faults about 90k times (measured); reused, a
    # few times.
    assert tuned["faults"] < 2048, tuned


@pytest.mark.skipif(not GLIBC, reason="malloc thresholds exist only in glibc")
def test_neuralab_malloc_system_leaves_malloc_alone():
    untouched = _probe("system")
    assert untouched["settings"] is None
    assert untouched["faults"] > 20 * 2048, untouched  # what the tuning saves (see above)
    assert _probe("tuned")["settings"] is not None


def test_bad_environment_value_is_named_and_malloc_left_alone():
    env = dict(os.environ, NEURALAB_MALLOC="fast", PYTHONPATH=str(ROOT))
    code = "import neuralab.kernels.allocator as a; print(a.malloc_settings())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "NEURALAB_MALLOC must be 'tuned' or 'system', got 'fast'" in done.stderr
    assert done.stdout.strip() == "None"


@pytest.mark.parametrize("kwargs", [{"mmap_threshold": -1}, {"trim_threshold": 1.5},
                                    {"mmap_threshold": True}, {"arena_max": -2}])
def test_tune_malloc_validates_sizes(kwargs):
    with pytest.raises(ValueError, match="tune_malloc: .*must be a non-negative int"):
        allocator.tune_malloc(**kwargs)


def test_no_op_without_glibc(monkeypatch):
    monkeypatch.setattr(allocator.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(allocator, "_settings", None)
    assert allocator.tune_malloc() is False
    assert allocator.malloc_settings() is None
