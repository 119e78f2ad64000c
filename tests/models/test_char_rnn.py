"""The character-level language model: registry, shapes, parameter count against PyTorch's
equivalent layers, learning a short text with truncated BPTT, and sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn.functional as F
from neuralab.data.datasets.text import CharCorpus
from neuralab.models import create, list_models
from neuralab.models.rnn import CharRNN
from neuralab.nn.rnn import detach_state
from neuralab.optim import Adam


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_shapes_and_parameter_count(cell):
    assert "char_rnn" in list_models()
    model = create("char_rnn", num_classes=30, embed=8, hidden=16, layers=2, cell=cell)
    assert isinstance(model, CharRNN)
    logits, state = model(nl.tensor(np.zeros((4, 7), dtype=np.int64)))
    assert logits.shape == (4, 7, 30)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 4, 16)
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    reference = [torch.nn.Embedding(30, 8), layer(8, 16, num_layers=2), torch.nn.Linear(16, 30)]
    expected = sum(p.numel() for m in reference for p in m.parameters())
    assert sum(p.numel() for p in model.parameters()) == expected


def test_learns_a_text_with_truncated_bptt_and_samples_it():
    text = "the quick brown fox jumps over the lazy dog. " * 8
    corpus = CharCorpus(text, val_fraction=0.0)
    nl.manual_seed(0)
    model = CharRNN(corpus.vocab_size, embed=16, hidden=48, layers=1, chars=corpus.chars)
    opt = Adam(model.parameters(), lr=0.02)
    first = last = None
    for _ in range(30):
        state = None
        for x, y in corpus.batches("train", batch_size=2, seq_len=30):
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, corpus.vocab_size), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            state = detach_state(state)  # truncated BPTT: carry values, cut the graph
            first = loss.item() if first is None else first
            last = loss.item()
    assert first > 2.5 and last < 0.3, (first, last)
    sample = model.sample("the quick", length=36, temperature=0)
    assert sample == text[:45]
    assert model.training  # sampling restores the mode
    nl.manual_seed(1)
    noisy = model.sample("the", length=20, temperature=1.0)
    assert len(noisy) == 23 and set(noisy) <= set(corpus.chars)
    ids = model.sample(corpus.encode("the"), length=5, temperature=0)
    assert ids == list(corpus.encode(text[:8]))


def test_sample_errors():
    model = CharRNN(5, embed=4, hidden=4, layers=1)
    with pytest.raises(ValueError, match="no vocabulary"):
        model.sample("ab", 3)
    with pytest.raises(ValueError, match="temperature"):
        model.sample([1], 3, temperature=-1)
    with pytest.raises(ValueError, match="at least one"):
        model.sample([], 3)
    with pytest.raises(ValueError, match="cell"):
        CharRNN(5, cell="transformer")
