"""Hooks-based instruments: model summaries, gradient norms, activation statistics."""
