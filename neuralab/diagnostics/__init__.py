"""Hooks-based instruments: model summaries, gradient norms, activation statistics, layer
responses (``diagnostics.responses``); the recorded computation graph (``diagnostics.graph``)."""

from neuralab.diagnostics.recorder import Recorder  # noqa: E402,F401
