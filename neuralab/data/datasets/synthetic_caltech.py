"""A small synthetic stand-in for Caltech-101 with the same folder layout (needs pillow).

The real Caltech-101 is not shipped. So that the whole pipeline (decoding images of varying
sizes, grey ones included, the stratified split, scale jittering) can run anywhere, this module
writes ``root/101_ObjectCategories/<shape>/image_NNNN.png``: coloured shapes on cluttered
backgrounds, one shape per class. ``Caltech101(root, ...)`` then reads it like the real tree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from neuralab.backend import xp

__all__ = ["SHAPES", "make_synthetic_caltech"]

SHAPES = ("circle", "square", "triangle", "cross", "ring", "diamond", "bar", "star")


def make_synthetic_caltech(root: str | os.PathLike, classes: int = 6, per_class: int = 40,
                           seed: int = 0) -> Path:
    """Write a Caltech-like folder ``root/101_ObjectCategories/<shape>/image_NNNN.png``.

    Each image (width and height drawn from 36-72 pixels, as Caltech's sizes vary) shows one
    shape of its class in a colour near its class's colour, at a random size and position, over a
    noisy background of random colour with a few distracting lines; every seventh image is grey.

    Args:
        root: the folder to write into (created if missing).
        classes: how many shape classes, 2 to ``len(SHAPES)``.
        per_class: images per class.
        seed: the generator's seed (the same seed writes the same images).

    Returns:
        The ``101_ObjectCategories`` folder.
    """
    if not 2 <= classes <= len(SHAPES):
        raise ValueError(f"make_synthetic_caltech: classes must be in [2, {len(SHAPES)}], got "
                         f"{classes}")
    generator = xp.random.default_rng(seed)
    top = Path(root) / "101_ObjectCategories"
    palette = generator.integers(0, 256, size=(classes, 3))
    for index, shape in enumerate(SHAPES[:classes]):
        folder = top / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            w, h = (int(v) for v in generator.integers(36, 73, size=2))
            background = generator.integers(0, 256, size=3)
            noise = generator.normal(0, 25, size=(h, w, 3))
            img = Image.fromarray(xp.clip(background + noise, 0, 255).astype(xp.uint8), "RGB")
            draw = ImageDraw.Draw(img)
            for _ in range(3):  # clutter: random thin lines
                points = [tuple(int(v) for v in generator.integers(0, max(w, h), size=2))
                          for _ in range(2)]
                draw.line(points, fill=tuple(int(v) for v in generator.integers(0, 256, 3)),
                          width=1)
            r = float(generator.uniform(0.28, 0.45)) * min(w, h)
            cx = float(generator.uniform(r, w - r))
            cy = float(generator.uniform(r, h - r))
            # Like Caltech's categories, each class has a typical colour (and a shape).
            colour = tuple(int(v) for v in (palette[index] + generator.integers(-30, 31, 3))
                           .clip(0, 255))
            _draw_shape(draw, shape, cx, cy, r, colour)
            if i % 7 == 6:
                img = img.convert("L")  # Caltech has grey images: the loader must make RGB
            img.save(folder / f"image_{i + 1:04d}.png")
    return top


def _draw_shape(draw: Any, shape: str, cx: float, cy: float, r: float, colour: tuple) -> None:
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape == "square":
        draw.rectangle([cx - 0.8 * r, cy - 0.8 * r, cx + 0.8 * r, cy + 0.8 * r], fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + 0.8 * r), (cx + r, cy + 0.8 * r)], fill=colour)
    elif shape == "cross":
        t = 0.3 * r
        draw.rectangle([cx - r, cy - t, cx + r, cy + t], fill=colour)
        draw.rectangle([cx - t, cy - r, cx + t, cy + r], fill=colour)
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour, width=max(2, int(0.3 * r)))
    elif shape == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    elif shape == "bar":
        draw.rectangle([cx - r, cy - 0.25 * r, cx + r, cy + 0.25 * r], fill=colour)
    else:  # star: two overlapping triangles
        draw.polygon([(cx, cy - r), (cx - r, cy + 0.6 * r), (cx + r, cy + 0.6 * r)], fill=colour)
        draw.polygon([(cx, cy + r), (cx - r, cy - 0.6 * r), (cx + r, cy - 0.6 * r)], fill=colour)
