"""Placeholder: this family is being written."""

__all__: list[str] = []
