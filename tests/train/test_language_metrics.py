"""Bits per character of a character-level language model, and the unigram baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn
from neuralab.data import BPTTLoader
from neuralab.models.rnn import CharRNN
from neuralab.nn import functional as F
from neuralab.train.metrics import bits_per_character, unigram_bits_per_character


class Oracle(nn.Module):
    """Logits ``confidence`` on the next character of a cyclic text 0, 1, ..., V−1, 0, ...;
    counts the calls that received the previous call's state."""

    def __init__(self, vocab: int, confidence: float):
        super().__init__()
        self.vocab, self.confidence, self.carried = vocab, confidence, 0

    def forward(self, x, state=None):
        self.carried += state is not None
        nxt = (x.numpy() + 1) % self.vocab  # (N, T)
        logits = np.eye(self.vocab, dtype=np.float32)[nxt] * self.confidence  # (N, T, V)
        return nl.tensor(logits), "state"


def test_bits_per_character_of_a_uniform_and_a_sure_model():
    tokens = np.arange(400) % 5
    loader = BPTTLoader(tokens, batch_size=4, seq_len=10)
    uniform = Oracle(5, 0.0)
    assert bits_per_character(uniform, loader) == pytest.approx(math.log2(5), rel=1e-6)
    assert uniform.carried == len(list(loader)) - 1  # the state goes from chunk to chunk
    assert bits_per_character(Oracle(5, 30.0), loader) < 1e-9
    # p(next) = e^c / (e^c + 4): −log₂ of it per character.
    c = 1.5
    expected = -math.log2(math.exp(c) / (math.exp(c) + 4))
    assert bits_per_character(Oracle(5, c), loader) == pytest.approx(expected, rel=1e-5)
    partial = Oracle(5, 0.0)
    bits_per_character(partial, loader, max_chars=80)  # two chunks of 4 × 10
    assert partial.carried == 1


def test_bits_per_character_matches_the_models_own_loss_and_restores_train_mode():
    nl.manual_seed(0)
    net = CharRNN(7, embed=4, hidden=8, layers=1)
    tokens = np.random.default_rng(0).integers(0, 7, 121)
    loader = BPTTLoader(tokens, batch_size=2, seq_len=60)  # one chunk: no state to carry
    (x, y), = list(loader)
    logits, _ = net(x)
    nats = float(F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1)).item())
    assert net.training
    assert bits_per_character(net, loader) == pytest.approx(nats / math.log(2), rel=1e-5)
    assert net.training


def test_unigram_bits_per_character():
    train = np.array([0, 1, 0, 1, 2, 3, 2, 3])  # four characters, equally frequent: 2 bits
    entropy, cross = unigram_bits_per_character(train, np.array([0, 1, 2, 3]), 4)
    assert entropy == pytest.approx(2.0)
    assert cross == pytest.approx(2.0)
    entropy, _ = unigram_bits_per_character(np.array([0, 0, 0, 0]), np.array([0]), 2)
    assert entropy == pytest.approx(0.0)
    # Add-one smoothing: a character never seen in training still costs a finite number of bits.
    _, unseen = unigram_bits_per_character(np.array([0, 0, 0]), np.array([1]), 2)
    assert unseen == pytest.approx(-math.log2(1 / 5))
