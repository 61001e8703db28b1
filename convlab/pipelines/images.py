"""Images in, without Qt: image files -> float32 RGB arrays, scaled, or cropped as for ImageNet.

Images inside ConvLab are ``(H, W, 3)`` float32 RGB in ``[0, 1]``, EXIF orientation applied,
alpha composited on white, grey and palette images expanded to RGB, 16-bit divided by 65535.
:func:`load_image` turns every bad file into an :class:`ImageLoadError` with one sentence fit
for a person, and never raises anything else for a bad file. Only :data:`FORMATS` are opened
(``Image.open(..., formats=FORMATS)``), so no file reaches a plugin that runs a delegate.
Turning arrays into pictures and PNG files is :mod:`convlab.render`'s.
"""

from __future__ import annotations

import io
import math
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from convlab.pipelines.guard import open_regular

# Largest image accepted, in pixels: Pillow's own decompression-bomb limit (about 89 megapixels).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS
IMAGENET_MEAN = (123.68, 116.779, 103.939)  # per-channel R, G, B means of ImageNet, 0-255 scale
MAX_RESIZED_SIDE = 4096  # center_crop_imagenet's "resized" (a picture to show) is cut to this
_TO_RGBA = {"LA", "La", "PA", "RGBa", "RGBA"}
# The formats ConvLab opens (as the Open dialog's filter and samples.IMAGE_SUFFIXES); Pillow is
# asked for these plugins only, so an EPS, PostScript or PDF file under any name never reaches a
# plugin that would hand it to Ghostscript (or leave a temporary file behind).
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
FORMAT_NAMES = "PNG, JPEG, GIF, BMP, TIFF and WebP"


class ImageLoadError(ValueError):
    """A file that cannot become a ConvLab image; ``str(exc)`` is one sentence for a person."""


def _read_source(path) -> tuple[io.BufferedIOBase, str]:
    """The file, open for reading, and a display name, or ImageLoadError saying why it cannot be.

    Only a regular file is opened (a pipe, device, socket or folder is refused before any read),
    and nothing is read here: Pillow judges the header and then reads only what the format needs.
    """
    if not isinstance(path, (str, bytes, os.PathLike)) and hasattr(path, "read_bytes"):
        name = getattr(path, "name", str(path))
        try:
            return io.BytesIO(path.read_bytes()), name  # a Traversable from importlib.resources
        except OSError as exc:
            raise ImageLoadError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    return open_regular(path, "image", error=ImageLoadError), os.fsdecode(path)


def load_image(path) -> np.ndarray:
    """Read an image file into ``(H, W, 3)`` float32 RGB in [0, 1], or raise ImageLoadError."""
    data, name = _read_source(path)
    with data:
        return _decode(data, name)


def load_image_bytes(data: bytes, name: str = "the pasted image") -> np.ndarray:
    """Like :func:`load_image` for encoded bytes (the clipboard, a download)."""
    return _decode(io.BytesIO(bytes(data)), name)


def _decode(data, name: str) -> np.ndarray:
    """``data`` (a binary file at its start) decoded; its size is judged before any read."""
    if data.seek(0, io.SEEK_END) == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes), not an image.")
    data.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb and palette warnings: handled below
            with Image.open(data, formats=FORMATS) as im:
                _check_pixels(im.size, name)
                im.load()
                try:
                    im = ImageOps.exif_transpose(im)
                except Exception:  # noqa: BLE001 - a broken EXIF block: keep the pixels as stored
                    pass
                return _to_rgb_float(im, name)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError:
        raise ImageLoadError(f"{name} has too many pixels (over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} "
                             "megapixels), which could be a decompression bomb.") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{name} is not an image in a format ConvLab reads ({FORMAT_NAMES}).") from None
    except MemoryError:
        raise ImageLoadError(f"{name} is too large to load into memory.") from None
    except Exception as exc:  # noqa: BLE001 - truncated data streams raise OSError, SyntaxError, ...
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ImageLoadError(f"{name} is truncated or damaged ({detail}).") from None


def _check_pixels(size: tuple[int, int], name: str) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise ImageLoadError(f"{name} has no pixels ({w} x {h}).")
    if w * h > MAX_PIXELS:
        raise ImageLoadError(f"{name} has too many pixels ({w} x {h} = {w * h / 1e6:.1f} megapixels; "
                             f"the limit is {MAX_PIXELS / 1e6:.1f}), which could be a decompression bomb.")


def _to_rgb_float(im: Image.Image, name: str) -> np.ndarray:
    """Any Pillow mode -> ``(H, W, 3)`` float32 in [0, 1]."""
    mode = im.mode
    if mode.startswith("I;16"):
        grey = np.asarray(im).astype(np.float32) / 65535.0
    elif mode == "I":  # 32-bit integers: 16-bit files in some formats; else stretched
        grey = _unit_range(np.asarray(im).astype(np.float64), 65535.0)
    elif mode == "F":
        grey = _unit_range(np.asarray(im).astype(np.float64), 1.0)
    else:
        if (mode == "P" and "transparency" in im.info) or mode in _TO_RGBA:
            im = im.convert("RGBA")
        elif mode != "RGB":
            try:
                im = im.convert("RGB")
            except (ValueError, OSError):
                raise ImageLoadError(f"{name} uses the unsupported image mode {mode!r}.") from None
        rgb = np.asarray(im, dtype=np.float32) / 255.0  # (H, W, 3 or 4)
        if rgb.shape[2] == 4:
            alpha = rgb[..., 3:]
            rgb = rgb[..., :3] * alpha + (1.0 - alpha)  # composite on white
        return np.ascontiguousarray(np.clip(rgb, 0.0, 1.0), dtype=np.float32)
    grey = np.clip(grey, 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


def _unit_range(values: np.ndarray, full_scale: float) -> np.ndarray:
    """Divide by ``full_scale`` when the values fit in [0, full_scale]; else stretch min..max."""
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0.0 and hi <= full_scale:
        return values / full_scale
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


def _resize(image: np.ndarray, width: int, height: int, resample=Image.LANCZOS, box=None) -> np.ndarray:
    """Resize each channel in Pillow's float mode "F" (no 8-bit rounding), clipped to [0, 1].

    With ``box`` (left, top, right, bottom; float pixels) only that region becomes the result.
    """
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32), "F")
                        .resize((width, height), resample, box=box)) for c in range(image.shape[2])]
    return np.ascontiguousarray(np.clip(np.stack(chans, axis=2), 0.0, 1.0), dtype=np.float32)


def _resize_region(image: np.ndarray, box, width: int, height: int) -> np.ndarray:
    """``box`` of ``image`` resized to ``width x height`` (Lanczos): the same pixels as resizing
    the whole image and cutting the box out, without ever holding the whole resized image."""
    h, w = image.shape[:2]
    left, top, right, bottom = max(0.0, box[0]), max(0.0, box[1]), min(w, box[2]), min(h, box[3])
    # Lanczos reads 3 output pixels either side, i.e. 3 * (source pixels per output pixel) here
    margin = 3 * max(1.0, (right - left) / width, (bottom - top) / height) + 2
    x0, y0 = max(0, int(left - margin)), max(0, int(top - margin))
    x1, y1 = min(w, math.ceil(right + margin)), min(h, math.ceil(bottom + margin))
    local = (left - x0, top - y0, right - x0, bottom - y0)
    return _resize(image[y0:y1, x0:x1], width, height, box=local)


def scale_to_longest(image: np.ndarray, longest: int = 512) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is ``longest`` pixels (Lanczos); never enlarge.

    Returns ``(scaled, factor)`` with ``factor = new / old`` (1.0 when the image already fits).
    """
    if longest < 1:
        raise ValueError(f"longest side must be at least 1 pixel, got {longest}")
    h, w = image.shape[:2]
    if max(h, w) <= longest:
        return image, 1.0
    factor = longest / max(h, w)
    new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
    return _resize(image, new_w, new_h), factor


def center_crop_imagenet(image: np.ndarray, insize: int = 227, shorter: int = 256) -> dict:
    """Chainer's ImageNet evaluation preprocessing, step by step.

    The shorter side is resized to ``shorter`` (256; Chainer's example resizes to 256 x 256,
    we keep the aspect ratio), the centre ``insize`` (227) square is cropped, and the mean is
    subtracted on the 0-255 scale before dividing by 255. Chainer subtracts a mean *image*;
    we use ImageNet's per-channel means R 123.68, G 116.779, B 103.939 (``IMAGENET_MEAN``).
    Only the region of the photo under the crop is resized, so a 20000 x 2 strip costs no more
    than a square photo.

    Returns ``crop`` ((insize, insize, 3) in [0, 1]), ``input`` ((1, 3, insize, insize) float32,
    the network's input), ``box`` (the crop in the original image's pixels, floats), ``factor``
    (resized / original), and for display ``resized`` (the photo with its shorter side at 256)
    with ``box_resized`` (the crop in it: left, top, right, bottom). A photo over 16 times as
    long as it is wide is not resized whole: ``resized`` is then the middle ``MAX_RESIZED_SIDE``
    pixels of it, around the crop, and ``resized_offset`` ((x, y), else (0, 0)) says where
    that part starts in the whole resized photo.
    """
    if insize > shorter:
        raise ValueError(f"crop {insize} is larger than the resized shorter side {shorter}")
    h, w = image.shape[:2]
    factor = shorter / min(h, w)
    new_w = shorter if w <= h else max(shorter, round(w * factor))
    new_h = shorter if h < w else max(shorter, round(h * factor))
    top, left = (new_h - insize) // 2, (new_w - insize) // 2
    fx, fy = new_w / w, new_h / h
    box = (left / fx, top / fy, (left + insize) / fx, (top + insize) / fy)
    crop = _resize_region(image, box, insize, insize)                       # (insize, insize, 3)
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)
    net_in = (crop * 255.0 - mean) / 255.0                                   # (insize, insize, 3)
    net_in = np.ascontiguousarray(net_in.transpose(2, 0, 1)[None], dtype=np.float32)  # (1, 3, s, s)
    view_w, view_h = min(new_w, MAX_RESIZED_SIDE), min(new_h, MAX_RESIZED_SIDE)
    x0, y0 = (new_w - view_w) // 2, (new_h - view_h) // 2   # where the shown part starts
    if (view_w, view_h) == (new_w, new_h):
        resized = _resize(image, new_w, new_h)
    else:
        resized = _resize_region(image, (x0 / fx, y0 / fy, (x0 + view_w) / fx, (y0 + view_h) / fy),
                                 view_w, view_h)
    return {"resized": resized, "box_resized": (left - x0, top - y0, left - x0 + insize, top - y0 + insize),
            "resized_offset": (x0, y0), "box": box, "factor": factor, "crop": crop, "input": net_in,
            "mean": IMAGENET_MEAN}
