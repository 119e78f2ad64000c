"""Exercises: the learner writes the lecture's ops in NumPy, neuralab grades them, then trains
with them (``neuralab exercise list|start|check|train``).

Each exercise module holds its name, lecture, one-line goal, the skeleton the learner starts
from, the graded table of cases with its hint rules, and the training run that puts the
learner's code in place of neuralab's op (through the kernel seam: ``kernels.use_learner``).
The grader is ``neuralab.exercises.base``; the training runs are ``neuralab.exercises.training``.
"""

from __future__ import annotations

from neuralab.exercises import (
    activations,
    adam,
    batchnorm,
    conv2d,
    dropout,
    linear,
    lstm,
    max_pool,
    mlp,
    momentum,
    rnn,
    softmax,
)
from neuralab.exercises.base import Exercise

#: The exercises in the course's order.
EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    linear.EXERCISE, softmax.EXERCISE, activations.EXERCISE, mlp.EXERCISE, momentum.EXERCISE,
    adam.EXERCISE, dropout.EXERCISE, conv2d.EXERCISE, max_pool.EXERCISE, batchnorm.EXERCISE,
    rnn.EXERCISE, lstm.EXERCISE)}

__all__ = ["EXERCISES", "Exercise"]
