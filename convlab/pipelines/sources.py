"""Where the window's photos come from: files, samples, the clipboard (no Qt widgets here).

Reading and scaling are :mod:`convlab.pipelines.images`'s (``load_image``, ``scale_to_longest``); the
samples are :mod:`convlab.pipelines.samples`'.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from convlab.engine.wording import shape_text
from convlab.pipelines import records, samples
from convlab.pipelines.images import load_image, scale_to_longest

DEFAULT_LONGEST = 512


def list_samples() -> list:
    """The bundled photos, or none when the installed package has lost them."""
    try:
        return list(samples.list_samples())
    except OSError:
        return []


def default_sample():
    """The sample photo the window opens on, or None when none is installed."""
    try:
        return samples.default_sample()
    except (OSError, IndexError):
        return None


def synthetic_image(size: int = DEFAULT_LONGEST) -> np.ndarray:
    """A made-up test card (edges, gradients, rings, colours) for when no sample is installed."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.stack([x, y, 1 - x * y], axis=-1) * 0.6 + 0.2
    rings = np.hypot(x - 0.68, y - 0.35)
    img[(np.sin(rings * 60) > 0) & (rings < 0.22)] *= 0.35
    img[int(size * 0.55):int(size * 0.85), int(size * 0.1):int(size * 0.45)] = (0.9, 0.2, 0.15)
    stripes = (np.floor(x * 24) % 2 == 0) & (y > 0.6)
    img[stripes & (x > 0.55)] = 0.95
    return np.ascontiguousarray(np.clip(img, 0, 1), dtype=np.float32)


@dataclass
class LoadedImage:
    """A photo ready for exploring: the original, the scaled copy, and where it came from."""

    original_shape: tuple[int, int]  # (H, W) as read
    image: np.ndarray  # (h, w, 3) float32, scaled to ``longest``
    factor: float  # scaled / original
    name: str  # file name or "clipboard"
    path: str | None  # a real file path, for recent files and the last folder
    original: np.ndarray | None = None  # kept so the longest side can change without re-reading
    sample: bool = False  # a bundled photo: not a recent file

    def record(self) -> dict:
        """Where the photo came from (:func:`convlab.pipelines.records.image_record`): hashes the
        file, or the pixels of a pasted photo, so call it off the GUI thread."""
        source = self.original if self.original is not None else self.image
        return records.image_record(self.path, source.shape, pixels=source, name=self.name)

    def describe(self) -> str:
        h, w = self.image.shape[:2]
        oh, ow = self.original_shape
        if self.factor < 1.0:
            return (f"{self.name}: {shape_text((ow, oh))} shown at {shape_text((w, h))} "
                    f"(scaled ×{self.factor:.3g})")
        return f"{self.name}: {shape_text((w, h))}"


def prepare(original: np.ndarray, name: str, path, longest: int) -> LoadedImage:
    """Scale an already-read photo for exploring (call this in a worker: it resamples)."""
    scaled, factor = scale_to_longest(original, longest)
    scaled = np.ascontiguousarray(scaled, dtype=np.float32)
    return LoadedImage(tuple(original.shape[:2]), scaled, float(factor), name,
                       str(path) if path is not None else None, original)


def read_and_prepare(source, longest: int, *, sample: bool = False) -> LoadedImage:
    """A path, a sample item or an ``(H, W, 3)`` array -> :class:`LoadedImage` (worker thread)."""
    if isinstance(source, np.ndarray):
        return prepare(source, "clipboard image", None, longest)
    image = load_image(source)
    path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    loaded = prepare(image, getattr(source, "name", None) or os.path.basename(str(source)), path,
                     longest)
    loaded.sample = sample
    return loaded
