"""The character corpus: vocabulary round trip, truncated-BPTT batches, windows, real file checksum,
and the shipped excerpt fallback."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from neuralab.data.datasets.text import (
    TINYSHAKESPEARE_SHA256,
    CharCorpus,
    TextDataset,
    tinyshakespeare,
)
from neuralab.data.download import DataError

TEXT = "hello world, hello recurrent nets!\nthe cat sat on the mat.\n" * 3


def test_vocabulary_round_trip():
    corpus = CharCorpus(TEXT, val_fraction=0.2)
    assert corpus.chars == "".join(sorted(set(TEXT)))
    assert corpus.vocab_size == len(set(TEXT))
    assert corpus.data.dtype == np.int64 and len(corpus) == len(TEXT)
    assert corpus.decode(corpus.data) == TEXT
    np.testing.assert_array_equal(corpus.encode("hat"),
                                  [corpus.chars.index(c) for c in "hat"])
    assert len(corpus.val_data) == int(len(TEXT) * 0.2)
    assert corpus.decode(np.concatenate([corpus.train_data, corpus.val_data])) == TEXT
    with pytest.raises(ValueError, match=r"not in the vocabulary.*'Z'"):
        corpus.encode("Zebra")
    with pytest.raises(ValueError, match="decode"):
        corpus.decode([corpus.vocab_size])


def test_unicode_and_given_vocabulary():
    corpus = CharCorpus("αβγ ßü — naïve", val_fraction=0.0)
    assert corpus.decode(corpus.encode("ßü naïve")) == "ßü naïve"
    other = CharCorpus("abc", chars="cba")
    np.testing.assert_array_equal(other.data, [2, 1, 0])


def test_bptt_batches_continue_each_stream():
    corpus = CharCorpus(TEXT, val_fraction=0.0)
    B, T = 3, 7
    chunks = list(corpus.batches("train", batch_size=B, seq_len=T))
    n = (len(TEXT) - 1) // B
    assert len(chunks) == corpus.num_batches("train", B, T) == -(-n // T)
    assert all(x.shape == (B, T) and y.shape == (B, T) for x, y in chunks[:-1])
    assert chunks[-1][0].shape == (B, n - (len(chunks) - 1) * T)
    assert chunks[0][0].dtype == np.int64
    rows = np.concatenate([x.numpy() for x, _ in chunks], axis=1)
    targets = np.concatenate([y.numpy() for _, y in chunks], axis=1)
    for b in range(B):  # row b is the b-th contiguous stretch of the text, targets shifted by 1
        assert corpus.decode(rows[b]) == TEXT[b * n:(b + 1) * n]
        assert corpus.decode(targets[b]) == TEXT[b * n + 1:(b + 1) * n + 1]
    dropped = list(corpus.batches("train", B, T, drop_last=True))
    assert all(x.shape == (B, T) for x, _ in dropped)
    assert len(dropped) == corpus.num_batches("train", B, T, drop_last=True) == n // T
    with pytest.raises(ValueError, match="batch_size"):
        next(corpus.batches("train", batch_size=0))
    with pytest.raises(ValueError, match="split"):
        next(corpus.batches("test"))


def test_text_dataset_windows():
    corpus = CharCorpus(TEXT, val_fraction=0.25)
    ds = TextDataset(corpus, seq_len=10, split="train")
    L = len(corpus.train_data)
    assert len(ds) == (L - 1 - 10) // 10 + 1
    assert ds.data.shape == ds.targets.shape == (len(ds), 10)
    x, y = ds[2]
    assert corpus.decode(x) == TEXT[20:30] and corpus.decode(y) == TEXT[21:31]
    overlapping = TextDataset(TEXT, seq_len=5, stride=1, split="all")
    assert len(overlapping) == len(TEXT) - 5
    assert overlapping.decode(overlapping.targets[-1]) == TEXT[-5:]
    val = corpus.dataset("val", seq_len=4)
    assert val.decode(val.data[0]) == TEXT[L:L + 4]
    with pytest.raises(ValueError, match="too few"):
        TextDataset(corpus, seq_len=10_000)


def test_text_dataset_with_dataloader():
    from neuralab.data import DataLoader

    ds = TextDataset(TEXT, seq_len=8)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 8) and y.shape == (4, 8)
    np.testing.assert_array_equal(x.numpy(), ds.data[:4])


def test_from_file_and_checksum(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    digest = hashlib.sha256(TEXT.encode()).hexdigest()
    corpus = CharCorpus.from_file(path, sha256=digest)
    assert corpus.decode(corpus.data) == TEXT
    assert TextDataset(str(path), seq_len=4).vocab_size == corpus.vocab_size
    with pytest.raises(DataError, match="checksum mismatch"):
        CharCorpus.from_file(path, sha256="0" * 64)


def test_shipped_excerpt_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEURALAB_OFFLINE", "1")
    corpus = tinyshakespeare(root=tmp_path)  # an empty folder: the excerpt stands in
    assert corpus.is_excerpt and corpus.source == "shipped excerpt"
    assert "shipped excerpt" in capsys.readouterr().err
    assert 90_000 < len(corpus) < 110_000
    assert corpus.decode(corpus.data[:14]) == "First Citizen:"
    assert CharCorpus.tinyshakespeare(excerpt=True).vocab_size == corpus.vocab_size
    with pytest.raises(DataError, match="input.txt not found"):
        tinyshakespeare(root=tmp_path, excerpt=False)


def test_corrupt_file_is_reported(tmp_path):
    (tmp_path / "input.txt").write_text("not shakespeare")
    with pytest.raises(DataError, match="checksum mismatch"):
        tinyshakespeare(root=tmp_path)


def test_real_tinyshakespeare(shared_data):
    corpus = tinyshakespeare(root=shared_data, download=False)
    assert not corpus.is_excerpt
    assert len(corpus) == 1_115_394
    assert corpus.vocab_size == 65
    with open(shared_data / "tinyshakespeare" / "input.txt", "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == TINYSHAKESPEARE_SHA256
    # The shipped excerpt is the beginning of the real text.
    excerpt = CharCorpus.tinyshakespeare(excerpt=True)
    assert corpus.decode(corpus.data[:len(excerpt)]) == excerpt.decode(excerpt.data)
    x, y = next(corpus.batches("train", batch_size=32, seq_len=100))
    assert x.shape == (32, 100)
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
