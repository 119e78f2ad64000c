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

from neuralab.autograd import no_grad
from neuralab.backend import manual_seed, xp
from neuralab.data.datasets.text import CharCorpus
from neuralab.experiments.base import Comparison, Experiment, Verdict, judge
from neuralab.models.rnn import CharRNN
from neuralab.nn.functional import cross_entropy
from neuralab.nn.rnn import detach_state
from neuralab.nn.utils import clip_grad_norm_
from neuralab.optim import Adam

LN2 = math.log(2.0)


def load_corpus(cfg: dict) -> Any:
    """Tiny Shakespeare: the shipped excerpt, the full text, or whichever is found."""
    if cfg["data"] not in ("excerpt", "full", "auto"):
        raise ValueError(f"char-rnn: data must be excerpt, full or auto, got {cfg['data']!r}")
    excerpt = {"excerpt": True, "full": False, "auto": None}[cfg["data"]]
    return CharCorpus.tinyshakespeare(root=cfg["data_root"] or None, download=cfg["download"],
                                      excerpt=excerpt, val_fraction=cfg["val_fraction"])


def unigram_bpc(train: Any, held_out: Any, vocab_size: int) -> tuple[float, float]:
    """The unigram entropy of the training text, and the held-out cross-entropy of its
    character frequencies (add-one smoothed so that no held-out character has probability 0)."""
    counts = xp.bincount(train, minlength=vocab_size).astype(xp.float64)
    p = counts / counts.sum()
    entropy = float(-(p[p > 0] * xp.log2(p[p > 0])).sum())
    smoothed = (counts + 1) / (counts.sum() + vocab_size)
    cross = float(-xp.log2(smoothed[held_out]).mean())
    return entropy, cross


def evaluate_bpc(model: Any, corpus: Any, cfg: dict) -> float:
    """Held-out bits per character, carrying the state across chunks as in training."""
    model.eval()
    total, count, state = 0.0, 0, None
    limit = cfg["max_val_chars"] or None
    streams = max(1, min(cfg["batch_size"], (len(corpus.val_data) - 1) // cfg["seq_len"]))
    with no_grad():
        for x, y in corpus.batches("val", batch_size=streams, seq_len=cfg["seq_len"]):
            logits, state = model(x, state)
            V = logits.shape[-1]
            loss = cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="sum")
            total += float(loss.item())
            count += y.array.size
            if limit is not None and count >= limit:
                break
    model.train()
    return total / count / LN2


def train(cfg: dict, corpus: Any, ctx: Any) -> tuple[Any, dict]:
    """Truncated-BPTT training of a CharRNN; returns the model and its curves."""
    manual_seed(ctx.seed)
    model = CharRNN(corpus.vocab_size, embed=cfg["embed"], hidden=cfg["hidden"],
                    layers=cfg["layers"], cell=cfg["cell"], dropout=cfg["dropout"],
                    chars=corpus.chars)
    opt = Adam(model.parameters(), lr=cfg["lr"])
    history: dict[str, list] = {"step": [], "train_bpc": [], "val_step": [], "val_bpc": []}
    history["val_step"].append(0)
    history["val_bpc"].append(evaluate_bpc(model, corpus, cfg))
    step, epoch = 0, 0
    start = time.perf_counter()
    bar = ctx.progress(total=cfg["steps"], desc="char-rnn")
    while step < cfg["steps"]:
        state = None  # each pass over the text starts from a zero state
        for x, y in corpus.batches("train", batch_size=cfg["batch_size"],
                                   seq_len=cfg["seq_len"], drop_last=True):
            logits, state = model(x, state)
            V = logits.shape[-1]
            loss = cross_entropy(logits.reshape(-1, V), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), cfg["clip"])
            opt.step()
            state = detach_state(state)  # keep the values, cut the graph: truncated BPTT
            step += 1
            bar.update(1)
            bpc = float(loss.item()) / LN2
            history["step"].append(step)
            history["train_bpc"].append(bpc)
            if step % cfg["log_every"] == 0:
                ctx.log("train", step=step, epoch=epoch, bpc=bpc)
            if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
                val = evaluate_bpc(model, corpus, cfg)
                history["val_step"].append(step)
                history["val_bpc"].append(val)
                ctx.log("val", step=step, bpc=val, seconds=time.perf_counter() - start)
            if step >= cfg["steps"]:
                break
        epoch += 1
    bar.close()
    history["seconds"] = time.perf_counter() - start
    history["epochs"] = step * cfg["batch_size"] * cfg["seq_len"] / len(corpus.train_data)
    return model, history


def _prime(text: str, chars: str) -> str:
    kept = "".join(c for c in text if c in chars)
    return kept or chars[0]


def run(cfg: dict, ctx: Any) -> dict:
    corpus = load_corpus(cfg)
    entropy, unigram_val = unigram_bpc(corpus.train_data, corpus.val_data, corpus.vocab_size)
    model, history = train(cfg, corpus, ctx)
    final_val = history["val_bpc"][-1]

    prime = _prime(cfg["prime"], corpus.chars)
    temperatures = [float(cfg["temperature"])] + [float(t) for t in cfg["compare_temperatures"]
                                                  if float(t) != float(cfg["temperature"])]
    samples: dict[str, str] = {}
    for t in temperatures:
        manual_seed(ctx.seed)
        text = model.sample(prime, length=cfg["sample_length"], temperature=t)
        samples[f"{t:g}"] = text[len(prime):]
    main = samples[f"{float(cfg['temperature']):g}"]
    with open(ctx.out_dir / "samples.txt", "w", encoding="utf-8") as fh:
        for t, text in samples.items():
            fh.write(f"===== temperature {t} (primed with {prime!r}) =====\n{prime}{text}\n\n")

    ctx.table("bpc", ["model", "held-out bits per character"], [
        ["uniform over the vocabulary", math.log2(corpus.vocab_size)],
        ["unigram (character frequencies of the training text)", unigram_val],
        [f"{cfg['cell'].upper()} at initialization", history["val_bpc"][0]],
        [f"{cfg['cell'].upper()} after {cfg['steps']} steps", final_val],
    ], caption=f"{len(corpus.val_data):,} held-out characters (the last "
               f"{cfg['val_fraction']:.0%} of the text); vocabulary of {corpus.vocab_size}.")
    ctx.table("samples", ["temperature", f"{cfg['sample_length']} sampled characters (↵ = "
                          "newline)"],
              [[t, (prime + text).replace("\n", " ↵ ")] for t, text in samples.items()],
              caption="Text generated by the trained model (also in samples.txt).")
    source = "the shipped excerpt" if corpus.is_excerpt else "the full text"
    ctx.note(f"Trained on {source} of Tiny Shakespeare ({len(corpus.train_data):,} training "
             f"characters, {history['epochs']:.2f} epochs) in {history['seconds']:.0f} s. The "
             f"unigram entropy of the training text is {entropy:.2f} bits; the model reaches "
             f"{final_val:.2f} bits per held-out character.")
    _figures(ctx, cfg, history, unigram_val, corpus.vocab_size)

    vocab = set(corpus.chars)
    return {
        "data_is_excerpt": bool(corpus.is_excerpt), "vocab_size": corpus.vocab_size,
        "train_chars": len(corpus.train_data), "val_chars": len(corpus.val_data),
        "unigram_entropy_bits": entropy, "unigram_val_bpc": unigram_val,
        "initial_val_bpc": history["val_bpc"][0], "final_val_bpc": final_val,
        "best_val_bpc": min(history["val_bpc"]), "final_train_bpc":
            float(xp.mean(history["train_bpc"][-20:])),
        "epochs": history["epochs"], "train_seconds": history["seconds"],
        "temperature": float(cfg["temperature"]), "prime": prime,
        "sample_length": len(main), "sample_in_vocabulary": set(main) <= vocab,
        "samples": samples,
    }


def _figures(ctx: Any, cfg: dict, history: dict, unigram: float, vocab_size: int) -> None:
    fig, ax = ctx.subplots(figsize=(8, 4.2))
    train_bpc = xp.array(history["train_bpc"])
    k = max(1, len(train_bpc) // 50)
    if len(train_bpc) >= k:
        smooth = xp.convolve(train_bpc, xp.ones(k) / k, mode="valid")
        ax.plot(range(k, len(train_bpc) + 1), smooth, color="#4c72b0", alpha=0.8,
                label="training (moving average)")
    ax.plot(history["val_step"], history["val_bpc"], "o-", color="#c44e52", label="held-out")
    ax.axhline(unigram, color="gray", ls="--", lw=1, label=f"unigram ({unigram:.2f})")
    ax.axhline(math.log2(vocab_size), color="gray", ls=":", lw=1,
               label=f"uniform ({math.log2(vocab_size):.2f})")
    ax.set_xlabel("training step (one chunk of T characters per stream)")
    ax.set_ylabel("bits per character")
    ax.set_ylim(top=math.log2(vocab_size) + 0.5)
    ax.set_title(f"character-level {cfg['cell'].upper()} on Tiny Shakespeare")
    ax.legend(fontsize=8)
    ctx.figure("bpc", fig, "Cross-entropy in bits per character during training; below the "
               "unigram line the model uses context.")


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
