"""conv2d's fast paths, forced: each memory layout and the blocked / chunked GEMMs must give
PyTorch's values and gradients on every conv2d spec (the specs' small shapes alone would only
reach the paths the size heuristics pick for them)."""

from __future__ import annotations

import pytest

import neuralab.ops.conv as conv
from tests.ops import test_ops  # the module, so that its tests are not collected twice

CONV_CASES = [(spec, case) for spec, case in test_ops.CASES if spec.name == "conv2d"]
CONV_IDS = [name for name, (spec, _) in zip(test_ops.IDS, test_ops.CASES)
            if spec.name == "conv2d"]

VARIANTS = {
    "batch-last": {"_LAYOUT": "batch_last"},
    "channels-last": {"_LAYOUT": "channels_last"},
    # One image row per block, GEMMs cut into chunks of a few columns, patch matrices rebuilt.
    "batch-last-tiny-blocks": {"_LAYOUT": "batch_last", "_BLOCK_BYTES": 1,
                               "_GEMM_CHUNK_BYTES": 1, "_GEMM_MIN_COLUMNS": 3,
                               "_KEEP_COLS_BYTES": 0},
    "channels-last-tiny-blocks": {"_LAYOUT": "channels_last", "_BLOCK_BYTES": 1,
                                  "_GEMM_CHUNK_BYTES": 1, "_GEMM_MIN_COLUMNS": 3,
                                  "_KEEP_COLS_BYTES": 0},
    # Every stride-1 layer without im2col (shifted row products), one image per block.
    "shifted": {"_LAYOUT": "channels_last", "_SHIFTED_CHANNELS": (1, 1 << 30)},
    "shifted-one-image-blocks": {"_LAYOUT": "channels_last", "_SHIFTED_CHANNELS": (1, 1 << 30),
                                 "_SHIFTED_BLOCK_BYTES": 1},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("spec", "case"), CONV_CASES, ids=CONV_IDS)
def test_conv2d_path_matches_pytorch(spec, case, variant, monkeypatch):
    for name, value in VARIANTS[variant].items():
        assert hasattr(conv, name), f"neuralab.ops.conv has no {name}: update this test"
        monkeypatch.setattr(conv, name, value)
    test_ops.test_matches_pytorch(spec, case, strided=True)
