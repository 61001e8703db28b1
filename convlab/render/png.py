"""Pictures out: uint8 arrays -> PNG files with text chunks (Pillow, no Qt).

What the pixels are is decided by :mod:`convlab.render.colour` and :mod:`convlab.render.tiles`;
this module only encodes them. Atomic placement is the caller's
(:func:`convlab.export.atomic.atomic_path`, or an export's staging folder).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def png_info(text: dict[str, str] | None) -> PngInfo:
    """tEXt chunks (iTXt when a value is not Latin-1) from ``{keyword: value}``."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(str(key)[:79], str(value))
    return info


def write_png(path, image: np.ndarray, text: dict[str, str] | None = None, *,
              compress_level: int = 6, scale: int = 1) -> None:
    """Write uint8 ``(H, W, 3)`` RGB or ``(H, W)`` grey as PNG with text chunks.

    ``scale`` enlarges every pixel to a ``scale x scale`` block (nearest neighbour) as the file
    is written, so the enlarged picture never exists as an array.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"write_png: expected uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"write_png: scale must be a whole number of at least 1, got {scale!r}")
    pil = Image.fromarray(np.ascontiguousarray(image), "L" if image.ndim == 2 else "RGB")
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    pil.save(path, "PNG", pnginfo=png_info(text), compress_level=compress_level)
