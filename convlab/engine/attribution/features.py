"""Feature visualisation by optimisation (Olah, Mordvintsev & Schubert, "Feature
Visualization", Distill 2017; the parameterisation and transforms of Lucid / Lucent).

The picture is ``sigmoid(M z)``, ``z = irfft2(scale * spectrum) / 4`` per channel (norm
"ortho"), ``scale = 1 / max(|f|, 1 / max(H, W))`` (a 1/f spectrum: every frequency starts
equally likely to change, so high frequencies do not take over), and ``M`` Lucid's square root
of ImageNet's colour correlation, normalised by its largest column norm (decorrelated colour).
Each step shows the network the picture through a random affine transform (shift of up to
``JITTER`` pixels at 224 pixels, in proportion at other sizes, scale from ``SCALES``, rotation
from ``ANGLES`` degrees, mid-grey outside:
Lucid's pad / jitter / scale / rotate robustness), and Adam (lr 0.05) climbs the target's
value: a channel's mean, or one value. Everything is drawn from ``seed``: a seed gives the
same picture. NumPy only; every adjoint is written out (``_spectrum_adjoint``,
``_sample_adjoint``).
"""

from __future__ import annotations

import numpy as np

from convlab.engine.attribution.core import AttributionError, check_target, target_seed, walk
from convlab.engine.backend import to_numpy

COLOR_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR = COLOR_SQRT / np.max(np.linalg.norm(COLOR_SQRT, axis=0))      # Lucid's normalisation
JITTER = 8
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))                   # 0.90 .. 1.10
ANGLES = tuple(range(-10, 11)) + (0,) * 5                             # degrees
LUMA = np.array([0.299, 0.587, 0.114])


class Spectrum:
    """The decorrelated parameterisation: ``params`` ``(3, H, W//2+1, 2)`` (real, imaginary)."""

    def __init__(self, height: int, width: int, rng: np.random.Generator, sd: float = 0.01):
        self.h, self.w = height, width
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.rfftfreq(width)[None, :]
        self.scale = 1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(height, width))
        self.params = rng.standard_normal((3, height, width // 2 + 1, 2)) * sd
        self.twice = np.full(width // 2 + 1, 2.0)        # interior columns appear twice
        self.twice[0] = 1.0
        if width % 2 == 0:
            self.twice[-1] = 1.0

    def image(self):
        """``(picture (3, H, W) in (0, 1), its sigmoid's slope)``."""
        spectrum = (self.params[..., 0] + 1j * self.params[..., 1]) * self.scale
        z = np.fft.irfft2(spectrum, s=(self.h, self.w), norm="ortho") / 4.0   # (3, H, W)
        rgb = np.tensordot(COLOR, z, axes=1)                                   # (3, H, W)
        pic = 1.0 / (1.0 + np.exp(-rgb))
        return pic, pic * (1.0 - pic)

    def gradient(self, g_pic, slope):
        """``d / d params`` from ``d / d picture``: the sigmoid, colour and spectrum adjoints."""
        g_z = np.tensordot(COLOR.T, g_pic * slope, axes=1) / 4.0
        return self._spectrum_adjoint(g_z)

    def _spectrum_adjoint(self, g_z):
        """The adjoint of ``irfft2(norm="ortho")`` on (real, imaginary) pairs: an interior
        column ``k`` appears with its conjugate, so its pair gets ``2 rfft2(g)``; the first (and
        for even W the last) column once (the imaginary part of its DC and Nyquist terms is
        dropped by irfft, and so gets only what the real-input transform gives it)."""
        f = np.fft.rfft2(g_z, norm="ortho") * self.twice * self.scale
        return np.stack([f.real, f.imag], axis=-1)


def random_affine(rng, height, width):
    """``(A 2x2, t 2)``: output pixel ``p`` (row, col) samples the picture at ``A p + t``:
    a rotation and scale about the centre and a shift of up to ``JITTER * side / 224`` pixels
    (at least 1)."""
    angle = np.deg2rad(ANGLES[rng.integers(len(ANGLES))])
    scale = SCALES[rng.integers(len(SCALES))]
    jitter = max(1, round(JITTER * min(height, width) / 224))
    shift = rng.integers(-jitter, jitter + 1, size=2)
    c, s = np.cos(angle), np.sin(angle)
    A = np.array([[c, -s], [s, c]]) / scale
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    return A, centre - A @ centre + shift


def _corners(A, t, height, width, out_h, out_w):
    """Bilinear taps: ``[(flat index, weight, inside mask)]`` for the 4 corners."""
    rows, cols = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
    src = np.tensordot(A, np.stack([rows, cols]).astype(np.float64), axes=1) + t[:, None, None]
    r0, c0 = np.floor(src[0]), np.floor(src[1])
    fr, fc = src[0] - r0, src[1] - c0
    taps = []
    for dr, dc, w in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc),
                      (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        r, c = (r0 + dr).astype(np.int64), (c0 + dc).astype(np.int64)
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        taps.append((np.where(inside, r * width + c, 0), w, inside))
    return taps


def _sample(pic, taps):
    """The picture seen through the transform; mid-grey (0.5) outside it. ``(3, h, w)``."""
    flat = pic.reshape(3, -1)
    out = 0.0
    for index, w, inside in taps:
        out = out + w * np.where(inside, flat[:, index], 0.5)
    return out


def _sample_adjoint(g, taps, shape):
    """The adjoint of :func:`_sample` (for the picture): each tap's weight times ``g``
    scattered back to its pixel."""
    size = shape[1] * shape[2]
    out = np.zeros((3, size))
    for index, w, inside in taps:
        weights = (w * inside)[None] * g                                # (3, h, w)
        for ch in range(3):
            out[ch] += np.bincount(index.ravel(), weights[ch].ravel(), minlength=size)
    return out.reshape(shape)


def _size(net, size) -> tuple[int, int]:
    if size is None:
        return tuple(net.input_shape[1:])
    h, w = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if isinstance(h, bool) or not all(isinstance(v, (int, np.integer)) and 8 <= v <= 1024
                                      for v in (h, w)):
        raise AttributionError(f"the picture's size must be 8 to 1024 pixels, got {size!r}.")
    return int(h), int(w)


class _Input:
    """The picture ``(3, h, w)`` in [0, 1] as the network's input ``(x - mean) / std`` (BT.601
    luma first for a one-channel network), and the adjoint back."""

    def __init__(self, channels: int, mean, std):
        self.grey = channels == 1
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if self.grey:
            mean, std = mean.mean(keepdims=True), std.mean(keepdims=True)
        self.mean, self.std = mean[:, None, None], std[:, None, None]

    def __call__(self, seen):
        v = np.tensordot(LUMA, seen, axes=1)[None] if self.grey else seen
        return ((v - self.mean) / self.std)[None].astype(np.float32)   # (1, C, h, w)

    def adjoint(self, gx):
        g = np.asarray(gx, dtype=np.float64)[0] / self.std
        return LUMA[:, None, None] * g[0] if self.grey else g


def feature_visualization(net, target, *, size=None, steps: int = 128, seed: int = 0,
                          lr: float = 0.05, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                          mode: str = "test", on_step=None, should_stop=None) -> np.ndarray:
    """The picture ``(3, H, W)`` in [0, 1] that maximises ``target`` (a channel's mean, or one
    value) after ``steps`` Adam steps from seeded noise (see the module docstring).

    ``size``: an int or ``(H, W)`` (default the network's input size; a network with fc
    layers needs its own size only when the target lies after them). ``mean``/``std``: the
    network's preprocessing of an RGB picture in [0, 1] (Chainer's ImageNet crop: ``mean =
    IMAGENET_MEAN / 255``, ``std = 1``). ``on_step(done, steps, picture)`` after each step;
    ``should_stop()`` before each: a stopped run returns the picture so far."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise AttributionError(f"steps must be a whole number >= 0, got {steps!r}.")
    h, w = _size(net, size)
    if net.input_shape[0] not in (1, 3):
        raise AttributionError(f"a picture is RGB or grey, but {net.name} takes "
                               f"{net.input_shape[0]} input channels.")
    checked = check_target(net, target, (net.input_shape[0], h, w))
    layer = checked[0]
    rng = np.random.default_rng(seed)
    spectrum, to_input = Spectrum(h, w, rng), _Input(net.input_shape[0], mean, std)

    def seeds(result):
        shape = result[layer].shape
        spread = 1 if checked[2] is not None or len(shape) == 2 else shape[2] * shape[3]
        return {layer: target_seed(shape, checked) / spread}     # the channel's mean

    m = np.zeros_like(spectrum.params)
    v = np.zeros_like(spectrum.params)
    for step in range(1, int(steps) + 1):
        if should_stop is not None and should_stop():
            break
        pic, slope = spectrum.image()
        taps = _corners(*random_affine(rng, h, w), h, w, h, w)
        grads = walk(net, to_input(_sample(pic, taps)), seeds, upto=layer, mode=mode)
        g_pic = _sample_adjoint(to_input.adjoint(to_numpy(grads.input)), taps, pic.shape)
        g = spectrum.gradient(g_pic, slope)
        m = 0.9 * m + 0.1 * g                                   # Adam (Kingma & Ba), ascent
        v = 0.999 * v + 0.001 * g * g
        spectrum.params = spectrum.params + lr * (m / (1 - 0.9 ** step)) / (
            np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        if on_step is not None:
            on_step(step, int(steps), pic)
    return spectrum.image()[0].astype(np.float32)
