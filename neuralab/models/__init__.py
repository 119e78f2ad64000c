"""The model zoo, built only from ``neuralab.nn``, with a registry: ``list_models``, ``create``."""
