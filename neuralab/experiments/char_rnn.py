"""Lecture 15: a character-level LSTM language model learns the statistics of Shakespeare.

The model reads text one character at a time and outputs, at each step, a distribution over the
next character: p(x_{t+1} | x_1..x_t) = softmax(W h_t + b), where h_t is the LSTM's state. It
is trained by minimizing the cross-entropy −log p(x_{t+1} | x_≤t) with truncated backpropagation
through time: the text is cut into parallel streams, each chunk of T characters continues the
previous one, the final state of a chunk is carried into the next (so the model sees context
beyond T), and the graph is cut at the chunk boundary (so each backward pass is only T steps).

Quality is measured in bits per character (bpc), the cross-entropy in base 2 on held-out text.
A model that ignores context and predicts each character by its frequency achieves the unigram
entropy H = −Σ_c p(c) log₂ p(c) ≈ 4.8 bits on Tiny Shakespeare; anything below that is learned
context (spelling, words, the layout of a play). A trained model generates text by sampling a
character from softmax(logits / temperature), feeding it back and repeating: temperature < 1
makes it conservative, > 1 adventurous.
"""

from __future__ import annotations

import math
import time
from typing import Any

from neuralab.backend import manual_seed
from neuralab.data import BPTTLoader
from neuralab.data.datasets.text import CharCorpus
from neuralab.lab import Comparison, Experiment, Verdict, judge
from neuralab.models.rnn import CharRNN
from neuralab.nn.functional import cross_entropy
from neuralab.nn.rnn import CarryState
from neuralab.optim import Adam
from neuralab.plotting import plot_smoothed
from neuralab.train import LossRecorder, StepEvaluator, StepLimit, Trainer
from neuralab.train.callbacks import LambdaCallback
from neuralab.train.metrics import bits_per_character, unigram_bits_per_character

LN2 = math.log(2.0)


def load_corpus(cfg: dict) -> Any:
    """Tiny Shakespeare: the shipped excerpt, the full text, or whichever is found."""
    if cfg["data"] not in ("excerpt", "full", "auto"):
        raise ValueError(f"char-rnn: data must be excerpt, full or auto, got {cfg['data']!r}")
    excerpt = {"excerpt": True, "full": False, "auto": None}[cfg["data"]]
    return CharCorpus.tinyshakespeare(root=cfg["data_root"] or None, download=cfg["download"],
                                      excerpt=excerpt, val_fraction=cfg["val_fraction"])


def sequence_loss(logits: Any, y: Any) -> Any:
    """Cross-entropy of logits (N, T, V) against the next characters y (N, T)."""
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))  # (N·T, V)


def run(cfg: dict, ctx: Any) -> dict:
    corpus = load_corpus(cfg)
    entropy, unigram = unigram_bits_per_character(corpus.train_data, corpus.val_data,
                                                  corpus.vocab_size)
    manual_seed(ctx.seed)
    net = CharRNN(corpus.vocab_size, embed=cfg["embed"], hidden=cfg["hidden"],
                  layers=cfg["layers"], cell=cfg["cell"], dropout=cfg["dropout"],
                  chars=corpus.chars)
    train = BPTTLoader(corpus.train_data, cfg["batch_size"], cfg["seq_len"], drop_last=True)
    streams = max(1, min(cfg["batch_size"], (len(corpus.val_data) - 1) // cfg["seq_len"]))
    val = BPTTLoader(corpus.val_data, streams, cfg["seq_len"])
    losses = LossRecorder(lambda step, loss: ctx.log("train", step=step, bpc=loss / LN2),
                          every=cfg["log_every"])
    held_out = StepEvaluator(lambda: bits_per_character(net, val, cfg["max_val_chars"]),
                             cfg["eval_every"], cfg["steps"],
                             log=lambda step, bpc: ctx.log("val", step=step, bpc=bpc))
    carry = CarryState(net)  # truncated BPTT: each chunk starts from the last one's state,
    restart = LambdaCallback(on_epoch_end=lambda *_: carry.reset())  # each pass from zeros
    trainer = Trainer(carry, Adam(net.parameters(), lr=cfg["lr"]), loss_fn=sequence_loss,
                      grad_clip=cfg["clip"], progress=ctx.show_progress, log=None,
                      callbacks=[losses, held_out, StepLimit(cfg["steps"]), restart])
    start = time.perf_counter()
    trainer.fit(train, epochs=math.ceil(cfg["steps"] / len(train)))
    seconds = time.perf_counter() - start
    epochs = cfg["steps"] * cfg["batch_size"] * cfg["seq_len"] / len(corpus.train_data)
    initial, final = held_out.history[0][1], held_out.history[-1][1]

    prime = "".join(c for c in cfg["prime"] if c in corpus.chars) or corpus.chars[0]
    samples = {}
    for t in dict.fromkeys([float(cfg["temperature"]), *map(float, cfg["compare_temperatures"])]):
        manual_seed(ctx.seed)
        text = net.sample(prime, length=cfg["sample_length"], temperature=t)
        samples[f"{t:g}"] = text[len(prime):]
    (ctx.out_dir / "samples.txt").write_text("".join(
        f"===== temperature {t} (primed with {prime!r}) =====\n{prime}{text}\n\n"
        for t, text in samples.items()), encoding="utf-8")
    main = samples[f"{float(cfg['temperature']):g}"]

    uniform, cell = math.log2(corpus.vocab_size), cfg["cell"].upper()
    ctx.table("bpc", ["model", "held-out bits per character"], [
        ["uniform over the vocabulary", uniform],
        ["unigram (character frequencies of the training text)", unigram],
        [f"{cell} at initialization", initial], [f"{cell} after {cfg['steps']} steps", final],
    ], caption=f"{len(corpus.val_data):,} held-out characters (the last "
               f"{cfg['val_fraction']:.0%} of the text); vocabulary of {corpus.vocab_size}.")
    ctx.table("samples", ["temperature", f"{cfg['sample_length']} sampled characters (↵ = "
                          "newline)"],
              [[t, (prime + text).replace("\n", " ↵ ")] for t, text in samples.items()],
              caption="Text generated by the trained model (also in samples.txt).")
    ctx.note(f"Trained on {'the shipped excerpt' if corpus.is_excerpt else 'the full text'} of "
             f"Tiny Shakespeare ({len(corpus.train_data):,} training characters, {epochs:.2f} "
             f"epochs) in {seconds:.0f} s. The unigram entropy of the training text is "
             f"{entropy:.2f} bits; the model reaches {final:.2f} bits per held-out character.")

    fig, ax = ctx.subplots(figsize=(8, 4.2))
    plot_smoothed(ax, [v / LN2 for v in losses.losses], len(losses.losses) // 50, x0=1,
                  color="#4c72b0", alpha=0.8, label="training (moving average)")
    ax.plot(*zip(*held_out.history), "o-", color="#c44e52", label="held-out")
    ax.axhline(unigram, color="gray", ls="--", lw=1, label=f"unigram ({unigram:.2f})")
    ax.axhline(uniform, color="gray", ls=":", lw=1, label=f"uniform ({uniform:.2f})")
    ax.set(xlabel="training step (one chunk of T characters per stream)",
           ylabel="bits per character", ylim=(None, uniform + 0.5),
           title=f"character-level {cell} on Tiny Shakespeare")
    ax.legend(fontsize=8)
    ctx.figure("bpc", fig, "Cross-entropy in bits per character during training; below the "
               "unigram line the model uses context.")
    return {"data_is_excerpt": bool(corpus.is_excerpt), "epochs": epochs,
            "unigram_entropy_bits": entropy, "unigram_val_bpc": unigram,
            "initial_val_bpc": initial, "final_val_bpc": final,
            "sample_length": len(main), "sample_in_vocabulary": set(main) <= set(corpus.chars),
            "samples": samples}


def verdict(results: dict, cfg: dict) -> Verdict:
    """Held-out bits per character below ``target_bpc`` and 0.5 below the unigram model's;
    the sample has the requested length and only characters of the vocabulary."""
    final, unigram = float(results["final_val_bpc"]), float(results["unigram_val_bpc"])
    return judge([
        Comparison("held-out bits per character", final, "<", "the target", cfg["target_bpc"],
                   bound=True, fmt=".2f"),
        Comparison("held-out bits per character", final, "<", "the unigram model's - 0.5",
                   unigram - 0.5, fmt=".2f"),
        Comparison("sample characters outside the vocabulary",
                   0 if results["sample_in_vocabulary"] else 1, "==", "none", 0, bound=True,
                   fmt="d"),
        Comparison("sample length", results["sample_length"], "==", "the requested",
                   cfg["sample_length"], bound=True, fmt="d")])


EXPERIMENT = Experiment(
    name="char-rnn",
    lecture="L15",
    title="A character-level LSTM language model on Tiny Shakespeare",
    claim="An LSTM trained with truncated BPTT on Shakespeare predicts the next character far "
          "better than its frequency alone (bits per character well below the unigram entropy "
          "≈ 4.8) and generates text in the style of a play.",
    run=run,
    verdict=verdict,
    defaults={"cell": "lstm", "embed": 64, "hidden": 256, "layers": 1, "dropout": 0.0,
              "seq_len": 100, "batch_size": 32, "lr": 0.002, "clip": 5.0, "steps": 2000,
              "eval_every": 250, "log_every": 10, "max_val_chars": 50000, "val_fraction": 0.1,
              "temperature": 0.8, "compare_temperatures": [0.5, 1.0], "sample_length": 400,
              "prime": "ROMEO:", "target_bpc": 3.3, "data": "auto", "data_root": "",
              "download": False, "threads": 1},
    quick={"embed": 32, "hidden": 128, "layers": 1, "seq_len": 50, "steps": 500,
           "eval_every": 100, "max_val_chars": 0, "sample_length": 200, "data": "excerpt"},
    runtime="5 min",
    setup="A CharRNN ({cell}, {layers} layer(s) of {hidden} units, embedding {embed}) trained "
          "with truncated BPTT over chunks of {seq_len} characters on {batch_size} parallel "
          "streams, Adam lr {lr}, gradient norm clipped at {clip}, {steps} steps. Held-out "
          "bits per character every {eval_every} steps; samples at temperature {temperature} "
          "(and {compare_temperatures}), primed with {prime!r}. Data: {data}.",
)
