"""Pictures in and out, without Qt: files -> float32 RGB arrays, maps -> colour PNGs.

Images inside ConvLab are ``(H, W, 3)`` float32 RGB in ``[0, 1]``, EXIF orientation applied,
alpha composited on white, grey and palette images expanded to RGB, 16-bit divided by 65535.
:func:`load_image` turns every bad file into an :class:`ImageLoadError` with one sentence fit
for a person, and never raises anything else for a bad file.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import warnings
from functools import lru_cache

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

# Largest image accepted, in pixels: Pillow's own decompression-bomb limit (about 89 megapixels).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS
IMAGENET_MEAN = (123.68, 116.779, 103.939)  # per-channel R, G, B means of ImageNet, 0-255 scale
NAN_COLOR = (255, 255, 255)  # montage separators and empty cells
COLORMAPS = ("viridis", "gray", "magma", "inferno", "plasma", "cividis", "turbo", "RdBu_r")
_TO_RGBA = {"LA", "La", "PA", "RGBa", "RGBA"}


class ImageLoadError(ValueError):
    """A file that cannot become a ConvLab image; ``str(exc)`` is one sentence for a person."""


def _read_source(path) -> tuple[io.BytesIO, str]:
    """The file's bytes and a display name, or ImageLoadError saying why it cannot be read."""
    if not isinstance(path, (str, bytes, os.PathLike)) and hasattr(path, "read_bytes"):
        name = getattr(path, "name", str(path))
        try:
            return io.BytesIO(path.read_bytes()), name  # a Traversable from importlib.resources
        except OSError as exc:
            raise ImageLoadError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    name = os.fsdecode(path)
    try:
        if os.path.isdir(path):
            raise ImageLoadError(f"{name} is a folder, not an image file.")
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ImageLoadError(f"{name} does not exist.") from None
    except PermissionError:
        raise ImageLoadError(f"{name} cannot be read: permission denied.") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{name} is a folder, not an image file.") from None
    except OSError as exc:
        raise ImageLoadError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    return io.BytesIO(data), name


def load_image(path) -> np.ndarray:
    """Read an image file into ``(H, W, 3)`` float32 RGB in [0, 1], or raise ImageLoadError."""
    data, name = _read_source(path)
    return _decode(data, name)


def load_image_bytes(data: bytes, name: str = "the pasted image") -> np.ndarray:
    """Like :func:`load_image` for encoded bytes (the clipboard, a download)."""
    return _decode(io.BytesIO(bytes(data)), name)


def _decode(data: io.BytesIO, name: str) -> np.ndarray:
    if data.getbuffer().nbytes == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes), not an image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb and palette warnings: handled below
            with Image.open(data) as im:
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
        raise ImageLoadError(f"{name} is not an image (Pillow does not recognise its format).") from None
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


def _resize(image: np.ndarray, width: int, height: int, resample=Image.LANCZOS) -> np.ndarray:
    """Resize each channel in Pillow's float mode "F" (no 8-bit rounding), clipped to [0, 1]."""
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32), "F")
                        .resize((width, height), resample)) for c in range(image.shape[2])]
    return np.ascontiguousarray(np.clip(np.stack(chans, axis=2), 0.0, 1.0), dtype=np.float32)


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

    Returns ``resized`` (the 256-pixel image), ``box_resized`` (left, top, right, bottom in
    it), ``box`` (the same crop in the original image's pixels, floats, for drawing it on the
    photo), ``factor`` (resized / original), ``crop`` ((insize, insize, 3) in [0, 1]) and
    ``input`` ((1, 3, insize, insize) float32, the network's input).
    """
    if insize > shorter:
        raise ValueError(f"crop {insize} is larger than the resized shorter side {shorter}")
    h, w = image.shape[:2]
    factor = shorter / min(h, w)
    new_w = shorter if w <= h else max(shorter, round(w * factor))
    new_h = shorter if h < w else max(shorter, round(h * factor))
    resized = _resize(image, new_w, new_h)
    top, left = (new_h - insize) // 2, (new_w - insize) // 2
    box_resized = (left, top, left + insize, top + insize)
    crop = resized[top:top + insize, left:left + insize]                    # (insize, insize, 3)
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)
    net_in = (crop * 255.0 - mean) / 255.0                                   # (insize, insize, 3)
    net_in = np.ascontiguousarray(net_in.transpose(2, 0, 1)[None], dtype=np.float32)  # (1, 3, s, s)
    fx, fy = new_w / w, new_h / h
    box = (left / fx, top / fy, (left + insize) / fx, (top + insize) / fy)
    return {"resized": resized, "box_resized": box_resized, "box": box, "factor": factor,
            "crop": np.ascontiguousarray(crop), "input": net_in, "mean": IMAGENET_MEAN}


@lru_cache(maxsize=32)
def _cached_lut(name: str) -> np.ndarray:
    from cmap import Colormap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # alias warnings such as 'rdbu' -> 'colorbrewer:RdBu'
        try:
            rgba = Colormap(name).lut(256)
        except Exception:  # noqa: BLE001 - cmap raises ValueError or KeyError for unknown names
            raise ValueError(f"unknown colormap {name!r}; try one of {', '.join(COLORMAPS)} "
                             "(any name the cmap package knows)") from None
    table = np.round(np.asarray(rgba)[:, :3] * 255.0).clip(0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


def check_colormap(name: str) -> str:
    """Return ``name`` if the cmap package knows it; else ValueError with a sentence."""
    _cached_lut(str(name))
    return str(name)


def lut(name: str = "viridis") -> np.ndarray:
    """A ``(256, 3)`` uint8 lookup table (what pyqtgraph's ImageItem.setLookupTable takes)."""
    return _cached_lut(str(name)).copy()


def apply_colormap(values: np.ndarray, name: str = "viridis", nan_color=NAN_COLOR) -> np.ndarray:
    """Values in [0, 1] (any shape) -> uint8 RGB (``shape + (3,)``); NaN cells get ``nan_color``."""
    values = np.asarray(values, dtype=np.float32)
    nan = np.isnan(values)
    index = np.rint(np.clip(np.where(nan, 0.0, values), 0.0, 1.0) * 255.0).astype(np.uint8)
    rgb = _cached_lut(str(name))[index]
    if nan.any():
        rgb[nan] = nan_color
    return rgb


def parse_normalize(text):
    """``"map"``, ``"layer"`` or ``"fixed:LO,HI"`` -> a mode for :func:`normalize` (ValueError if bad)."""
    if not isinstance(text, str):
        return text
    key = text.strip().lower()
    if key in ("map", "layer"):
        return key
    if key.startswith("fixed:"):
        try:
            lo, hi = (float(v) for v in key[6:].split(","))
        except ValueError:
            raise ValueError(f"fixed normalisation needs two numbers, as in fixed:0,1; got {text!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"fixed normalisation needs LO < HI, got {lo:g} and {hi:g}")
        return ("fixed", lo, hi)
    raise ValueError(f"normalisation must be map, layer or fixed:LO,HI; got {text!r}")


def normalize_bounds(maps: np.ndarray, mode="map") -> tuple[np.ndarray, np.ndarray]:
    """The ``(lo, hi)`` each map is scaled with, each shaped ``(F, 1, 1)`` for ``(F, h, w)`` maps."""
    maps = np.asarray(maps)
    stack = maps.reshape((-1,) + maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    mode = parse_normalize(mode)
    if mode == "map":
        return (np.nanmin(stack, axis=(1, 2), keepdims=True),
                np.nanmax(stack, axis=(1, 2), keepdims=True))
    if mode == "layer":
        lo, hi = np.nanmin(stack), np.nanmax(stack)
    elif isinstance(mode, tuple) and len(mode) == 3 and mode[0] == "fixed" and mode[2] > mode[1]:
        lo, hi = mode[1], mode[2]
    else:
        raise ValueError(f"normalisation must be 'map', 'layer' or ('fixed', lo, hi); got {mode!r}")
    full = np.ones((stack.shape[0], 1, 1))
    return full * lo, full * hi


def normalize(maps: np.ndarray, mode="map") -> np.ndarray:
    """Scale to [0, 1] float32: each map by its own min..max (``"map"``), all maps by the
    layer's (``"layer"``), or by ``("fixed", lo, hi)`` (clipped). A constant map becomes 0;
    NaN stays NaN. The result has the input's shape."""
    maps = np.asarray(maps, dtype=np.float32)
    lo, hi = normalize_bounds(maps, mode)
    stack = maps.reshape(lo.shape[0], *maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    span = (hi - lo).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(span > 0, (stack - lo.astype(np.float32)) / np.where(span > 0, span, 1), 0)
    out = np.where(np.isnan(stack), np.nan, np.clip(out, 0.0, 1.0))
    return out.astype(np.float32).reshape(maps.shape)


def montage(maps: np.ndarray, cols: int | None = None, sep: int = 1, fill: float = np.nan):
    """Tile ``(F, h, w)`` maps row by row into one 2-D float32 grid with ``sep``-pixel gaps.

    ``cols`` defaults to ``ceil(sqrt(F))``. Gaps and empty cells hold ``fill`` (NaN, which
    :func:`apply_colormap` paints in ``NAN_COLOR``). Returns ``(grid, (rows, cols))``; the grid is
    ``rows*h + (rows-1)*sep`` by ``cols*w + (cols-1)*sep`` pixels.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or maps.shape[0] < 1:
        raise ValueError(f"montage: expected (F, h, w) maps with F >= 1, got shape {maps.shape}")
    n, h, w = maps.shape
    cols = max(1, min(int(cols or math.ceil(math.sqrt(n))), n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * h + (rows - 1) * sep, cols * w + (cols - 1) * sep), fill, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + sep):r * (h + sep) + h, c * (w + sep):c * (w + sep) + w] = maps[i]
    return grid, (rows, cols)


def png_info(text: dict[str, str] | None) -> PngInfo:
    """tEXt chunks (iTXt when a value is not Latin-1) from ``{keyword: value}``."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(str(key)[:79], str(value))
    return info


def write_png(path, image: np.ndarray, text: dict[str, str] | None = None, *, atomic: bool = True,
              compress_level: int = 6) -> None:
    """Write uint8 ``(H, W, 3)`` RGB or ``(H, W)`` grey as PNG with text chunks.

    With ``atomic`` the file appears complete or not at all: it is written under a temporary
    name in the same folder and moved into place with ``os.replace``.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"write_png: expected uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    pil = Image.fromarray(np.ascontiguousarray(image), "L" if image.ndim == 2 else "RGB")
    info = png_info(text)
    if not atomic:
        pil.save(path, "PNG", pnginfo=info, compress_level=compress_level)
        return
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    tmp = os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:  # "x": never clobber; the umask applies, unlike mkstemp's 0600
            pil.save(fh, "PNG", pnginfo=info, compress_level=compress_level)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
