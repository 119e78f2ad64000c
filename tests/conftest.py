"""Shared fixtures: fixed seeds, and the location of the shared real data sets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import neuralab as nl

SHARED_DATA = Path(os.environ.get("NEURALAB_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "datasets"))


@pytest.fixture(autouse=True)
def _seed():
    nl.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(autouse=True)
def _threads():
    """Every test starts with the default number of threads (experiments set their own)."""
    yield
    nl.set_num_threads(None)


@pytest.fixture
def shared_data() -> Path:
    """The shared real data sets (../shared/datasets); tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return SHARED_DATA
