"""Built-in datasets that need no download: seeded drawings of eight shapes.

``shapes``: 28 x 28 grey (MNIST's size, for a LeNet-style network); ``shapes-rgb``: 32 x 32
colour (CIFAR's size). Classes: circle, square, diamond, triangle, plus, cross, horizontal,
vertical. Each image draws one shape at a random centre, size (radius 3 to 11 pixels at 28 px),
stroke width (1 to 3.5 pixels), outlined or filled (closed shapes), slightly rotated (up to
+-15 degrees; a diamond is a square turned 45), at a random contrast over a random background,
with Gaussian noise of random strength. What a network must learn: oriented edges (horizontal
vs vertical vs diagonal), corners vs curves, and invariance to position, size and fill. Small,
faint or noisy shapes stay ambiguous (a 3-pixel circle and square look alike), so accuracy stays
below 100%.

Each shape is drawn from its distance function ``d(x, y)`` (Quilez, "2D distance functions"):
a filled shape is ``clip(0.5 - d, 0, 1)``, an outline ``clip(w / 2 + 0.5 - |d|, 0, 1)`` for stroke
width ``w``, both anti-aliased over one pixel. The training split is drawn from seed 1 and the
test split from seed 2 (6,000 and 1,000 images, balanced classes). Only NumPy's ``PCG64``
generator, IEEE arithmetic and ``sqrt`` touch the pixels (rotations come from Python's ``math``),
so a split is the same bit for bit on every run.
"""

from __future__ import annotations

import math

import numpy as np

from convlab.pipelines.datasets.core import Split

CLASSES = ("circle", "square", "diamond", "triangle", "plus", "cross", "horizontal", "vertical")
BUILTIN = {  # name: (side, channels)
    "shapes": (28, 1),
    "shapes-rgb": (32, 3),
}
TRAIN_SIZE, TEST_SIZE = 6000, 1000
TRAIN_SEED, TEST_SEED = 1, 2
_CLOSED = {0, 1, 2, 3}      # circle, square, diamond, triangle: outlined or filled
_BASE_ANGLE = {2: 45.0, 5: 45.0, 7: 90.0}  # diamond, cross, vertical: turned from their twin


def generate(name: str, n: int, seed: int) -> Split:
    """``n`` images of the built-in dataset ``name`` drawn from ``seed``: balanced labels."""
    side, channels = BUILTIN[name]
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    scale = side / 28.0
    radius = rng.uniform(3.0, 11.0, n) * scale
    stroke = rng.uniform(1.0, 3.5, n) * scale
    margin = radius + stroke / 2
    cx = rng.uniform(0, 1, n) * (side - 1 - 2 * margin) + margin
    cy = rng.uniform(0, 1, n) * (side - 1 - 2 * margin) + margin
    jitter = rng.uniform(-15.0, 15.0, n)
    filled = rng.random(n) < 0.5
    shape = _draw(labels, cx, cy, radius, stroke, jitter, filled, side)      # (n, H, W) float32
    if channels == 1:
        background = rng.uniform(0.0, 0.35, (n, 1, 1, 1))
        ink = background + rng.uniform(0.3, 0.65, (n, 1, 1, 1))
    else:
        background, ink = _colours(rng, n)                              # (n, 1, 1, 3) each
    sigma = rng.uniform(0.02, 0.15, (n, 1, 1, 1))
    noise = rng.standard_normal((n, side, side, channels), dtype=np.float32)  # (n, H, W, C)
    # 255 * (background + (ink - background) * shape + sigma * noise), in float32
    image = noise * (255.0 * sigma).astype(np.float32)
    image += (255.0 * background).astype(np.float32)
    image += shape[..., None] * (255.0 * (ink - background)).astype(np.float32)
    pixels = np.clip(np.rint(image, out=image), 0, 255, out=image).astype(np.uint8)
    return Split(np.ascontiguousarray(pixels), labels)


def splits(name: str) -> tuple[Split, Split]:
    """The training and test splits of the built-in dataset ``name``."""
    return generate(name, TRAIN_SIZE, TRAIN_SEED), generate(name, TEST_SIZE, TEST_SEED)


def _colours(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A background and an ink colour per image whose grey levels differ by 0.3 or more."""
    background = rng.uniform(0.0, 1.0, (n, 3))
    ink = rng.uniform(0.0, 1.0, (n, 3))
    luma = np.array([0.299, 0.587, 0.114])
    gap = (ink - background) @ luma
    push = np.where(gap >= 0, 1.0, -1.0)[:, None] * np.maximum(0.0, 0.3 - np.abs(gap))[:, None]
    ink = np.clip(ink + push, 0.0, 1.0)
    background = np.clip(background - push, 0.0, 1.0)
    return background[:, None, None, :], ink[:, None, None, :]


DRAW_CHUNK = 512  # images drawn at a time: float64 work arrays of 3 MB, not 38 MB each


def _draw(labels, cx, cy, radius, stroke, jitter, filled, side: int) -> np.ndarray:
    """Coverage in [0, 1], ``(n, side, side)`` float32, of each image's shape, drawn
    :data:`DRAW_CHUNK` images at a time (element-wise, so the same bits as all at once): all
    6,000 at once held about 150 MB of float64 temporaries, the soak's highest peak when the
    Train pane opened."""
    out = np.empty((labels.size, side, side), dtype=np.float32)
    for a in range(0, labels.size, DRAW_CHUNK):
        b = slice(a, a + DRAW_CHUNK)
        out[b] = _draw_chunk(labels[b], cx[b], cy[b], radius[b], stroke[b], jitter[b],
                             filled[b], side)
    return out


def _draw_chunk(labels, cx, cy, radius, stroke, jitter, filled, side: int) -> np.ndarray:
    """:func:`_draw` for one chunk, in float64."""
    n = labels.size
    angle = np.array([math.radians(j + _BASE_ANGLE.get(int(c), 0.0)) for c, j in zip(labels, jitter)])
    cos = np.array([math.cos(a) for a in angle])[:, None, None]
    sin = np.array([math.sin(a) for a in angle])[:, None, None]
    grid = np.arange(side, dtype=np.float64)
    x = grid[None, None, :] - cx[:, None, None]                          # (n, 1, W)
    y = grid[None, :, None] - cy[:, None, None]                          # (n, H, 1)
    u = x * cos + y * sin                                                # (n, H, W), rotated
    v = y * cos - x * sin
    r = radius[:, None, None]
    out = np.empty((n, side, side))
    for c in range(len(CLASSES)):
        m = labels == c
        if m.any():
            out[m] = _coverage(c, u[m], v[m], r[m], stroke[m][:, None, None],
                               filled[m][:, None, None])
    return out


def _coverage(c: int, u, v, r, stroke, filled) -> np.ndarray:
    if c in _CLOSED:
        d = _closed_distance(c, u, v, r)
        outline = np.clip(stroke / 2 + 0.5 - np.abs(d), 0.0, 1.0)
        return np.where(filled, np.clip(0.5 - d, 0.0, 1.0), outline)
    if c in (4, 5):                                     # plus / cross: two segments
        d = np.minimum(_segment(u, v, r), _segment(v, u, r))
    else:                                               # horizontal / vertical: one segment
        d = _segment(u, v, r)
    return np.clip(stroke / 2 + 0.5 - d, 0.0, 1.0)


def _closed_distance(c: int, u, v, r) -> np.ndarray:
    """Signed distance (negative inside) to a circle, square (also the diamond) or triangle."""
    if c == 0:
        return np.sqrt(u * u + v * v) - r
    if c in (1, 2):
        side = r * 0.85                                 # a square's half side: same area feel
        qu, qv = np.abs(u) - side, np.abs(v) - side
        outside = np.sqrt(np.maximum(qu, 0.0) ** 2 + np.maximum(qv, 0.0) ** 2)
        return outside + np.minimum(np.maximum(qu, qv), 0.0)
    # equilateral triangle, apex up, circumradius r: the largest of three edge distances
    h = r / 2                                           # inradius
    k = math.sqrt(3) / 2
    return np.maximum.reduce([-v - h, k * u + 0.5 * v - h, -k * u + 0.5 * v - h])


def _segment(u, v, r) -> np.ndarray:
    """Distance to the segment from ``(-r, 0)`` to ``(r, 0)``."""
    du = np.maximum(np.abs(u) - r, 0.0)
    return np.sqrt(du * du + v * v)
