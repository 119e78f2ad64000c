"""The course in order: each session of CSC321 (Grosse, 2017) and the experiments that test it.

Names listed here that no module implements yet are shown as planned; experiments registered
under a session not listed here are appended to it, so the curriculum never hides a module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Session:
    """One session of the course: its key (``"L7"``), its title and its experiments in order."""

    key: str
    title: str
    experiments: tuple[str, ...]


SESSIONS: tuple[Session, ...] = (
    Session("L5", "Lecture 5: Multilayer perceptrons", ("xor",)),
    Session("L6", "Lecture 6: Backpropagation", ("backprop",)),
    Session("L7", "Lecture 7: Optimization", (
        "optimizers-2d", "learning-rate", "logistic-regression", "optimizers-mnist")),
    Session("L9", "Lecture 9: Generalization", ("generalization",)),
    Session("L11", "Lecture 11: Convolutional networks", ("conv-arithmetic",)),
    Session("L12", "Lecture 12: Image classification", (
        "lenet-mnist", "architectures-cifar", "caltech101")),
    Session("L15", "Lecture 15: Exploding and vanishing gradients", (
        "deep-mlp-gradients", "exploding-gradients", "rnn-vs-lstm", "char-rnn")),
    Session("GoogLeNet", "Special session: GoogLeNet (Szegedy et al., 2015)", ("googlenet-aux",)),
    Session("VGG", "Special session: VGG (Simonyan & Zisserman, 2015)", ("vgg-deepening",)),
    Session("ResNet", "Special session: ResNet (He et al., 2016)", ("resnet-degradation",)),
)


def planned_names() -> list[str]:
    """Every experiment name the curriculum lists, implemented or not."""
    return [name for session in SESSIONS for name in session.experiments]


def sessions_with(registered: dict) -> list[tuple[Session, list[tuple[str, object | None]]]]:
    """Each session with its experiments as ``(name, Experiment or None when not implemented)``.

    Registered experiments the table does not list join the session named by their ``lecture``
    (or a trailing "Other" session).
    """
    listed = set(planned_names())
    extra: dict[str, list[str]] = {}
    for name, experiment in registered.items():
        if name not in listed:
            extra.setdefault(experiment.lecture, []).append(name)
    rows = []
    for session in SESSIONS:
        names = list(session.experiments) + sorted(extra.pop(session.key, []))
        rows.append((session, [(n, registered.get(n)) for n in names]))
    for key, names in sorted(extra.items()):
        rows.append((Session(key, f"{key} (other)", tuple(names)),
                     [(n, registered[n]) for n in sorted(names)]))
    return rows
