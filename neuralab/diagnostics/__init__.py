"""Hooks-based instruments: model summaries, gradient norms, activation statistics."""

from neuralab.diagnostics.recorder import Recorder  # noqa: E402,F401
