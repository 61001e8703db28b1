"""Where the window's photos come from: files, samples, the clipboard (no Qt widgets here).

Reading and scaling are :mod:`convlab.imaging`'s (``load_image``, ``scale_to_longest``); the
samples are :mod:`convlab.samples`'. A small Pillow fallback keeps the window usable in a
checkout where those modules are missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

DEFAULT_LONGEST = 512


class ImageLoadError(ValueError):
    """Fallback for ``convlab.imaging.ImageLoadError``: a bad file, with a one-line reason."""


def _imaging():
    try:
        from convlab import imaging
    except ImportError:
        return None
    return imaging


def load_image(path) -> np.ndarray:
    """``(H, W, 3)`` float32 RGB in [0, 1], or ``ValueError`` with a one-line reason."""
    imaging = _imaging()
    if imaging is not None:
        return imaging.load_image(path)
    return _pillow_load(path)


def _pillow_load(path) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = os.path.basename(str(path))
    try:
        with Image.open(path if isinstance(path, (str, os.PathLike)) else path.open("rb")) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "P"):
                im = im.convert("RGBA")
                white = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(white, im)
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: no such file.") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{name} is not an image Pillow can read.") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageLoadError(f"{name} could not be read: {exc}") from None
    return np.ascontiguousarray(rgb)


def scale_to_longest(image: np.ndarray, longest: int = DEFAULT_LONGEST):
    """``(scaled, factor)``: ``image`` shrunk so its longest side is ``longest`` (never enlarged)."""
    imaging = _imaging()
    if imaging is not None and hasattr(imaging, "scale_to_longest"):
        return imaging.scale_to_longest(image, longest)
    h, w = image.shape[:2]
    factor = min(1.0, longest / max(h, w))
    if factor >= 1.0:
        return image, 1.0
    from PIL import Image

    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    channels = [Image.fromarray(np.ascontiguousarray(image[..., c]), mode="F")
                .resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) for c in range(3)]
    scaled = np.stack([np.asarray(ch, dtype=np.float32) for ch in channels], axis=-1)
    return np.clip(scaled, 0.0, 1.0), factor


def list_samples() -> list:
    try:
        from convlab.samples import list_samples as listing
    except ImportError:
        return []
    try:
        return list(listing())
    except (OSError, FileNotFoundError):
        return []


def default_sample():
    """The sample photo the window opens on, or None when none is installed."""
    try:
        from convlab.samples import default_sample as default
        return default()
    except (ImportError, OSError, FileNotFoundError):
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

    def describe(self) -> str:
        h, w = self.image.shape[:2]
        oh, ow = self.original_shape
        if self.factor < 1.0:
            return f"{self.name}: {ow}×{oh} shown at {w}×{h} (scaled ×{self.factor:.3g})"
        return f"{self.name}: {w}×{h}"


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


def qimage_to_array(qimage) -> np.ndarray:
    """A QImage (e.g. from the clipboard) -> ``(H, W, 3)`` float32 in [0, 1], alpha on white."""
    from PySide6.QtGui import QImage

    img = qimage.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    rgba = buf.reshape(h, img.bytesPerLine())[:, :w * 4].reshape(h, w, 4).astype(np.float32) / 255
    alpha = rgba[..., 3:4]
    return np.ascontiguousarray(rgba[..., :3] * alpha + (1.0 - alpha))
