"""BPTTLoader: contiguous streams, chunks that continue each other, re-iteration, errors."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.data import BPTTLoader


def test_chunks_continue_each_stream_and_targets_are_shifted():
    tokens = np.arange(23)
    B, T = 3, 4  # noqa: N806
    loader = BPTTLoader(tokens, batch_size=B, seq_len=T)
    n = (len(tokens) - 1) // B  # 7 tokens per stream
    chunks = list(loader)
    assert len(chunks) == len(loader) == 2
    assert chunks[0][0].shape == (B, T) and chunks[1][0].shape == (B, n - T)
    assert chunks[0][0].dtype == np.int64
    rows = np.concatenate([x.numpy() for x, _ in chunks], axis=1)
    targets = np.concatenate([y.numpy() for _, y in chunks], axis=1)
    np.testing.assert_array_equal(rows, tokens[:B * n].reshape(B, n))
    np.testing.assert_array_equal(targets, rows + 1)
    # A second pass gives the same chunks again (one pass = one epoch for the Trainer).
    again = [x.numpy() for x, _ in loader]
    np.testing.assert_array_equal(np.concatenate(again, axis=1), rows)


def test_drop_last_and_arrays():
    loader = BPTTLoader(np.arange(23), batch_size=3, seq_len=4, drop_last=True, as_tensor=False)
    chunks = list(loader)
    assert len(chunks) == len(loader) == 1
    assert isinstance(chunks[0][0], np.ndarray) and chunks[0][0].shape == (3, 4)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        BPTTLoader(np.arange(10), batch_size=0, seq_len=2)
    with pytest.raises(ValueError, match="seq_len must be a positive integer"):
        BPTTLoader(np.arange(10), batch_size=2, seq_len=True)
    with pytest.raises(ValueError, match="too few for 5 streams"):
        BPTTLoader(np.arange(5), batch_size=5, seq_len=2)
    with pytest.raises(ValueError, match="1-D"):
        BPTTLoader(np.zeros((2, 5), dtype=np.int64), batch_size=1, seq_len=2)
