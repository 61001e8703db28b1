"""Filter banks for the explorer (hand-made, or learned from photos), a hand-made AlexNet conv1.

Every bank returns ``(weights (F, C, k, k) float32, names)``. Spatial filters are designed at
any odd or even size ``k`` (binomial smoothing generalises Sobel, a Laplacian of Gaussian
generalises the 3x3 Laplacian) and are applied to every input channel equally, divided by C,
so an RGB image and its grey version give the same response.
"""

from __future__ import annotations

import math

import numpy as np

from convlab.engine.explorer.ica import learn_kernels, orientation_selectivity  # noqa: F401 (re-exported)
from convlab.engine.layers import lecun_normal

BANKS = ("random", "edges", "blur", "sharpen", "gabor", "handmade")
BANK_LABELS = {
    "random": "Random (LeCun normal, like an untrained conv1)",
    "edges": "Edges: Sobel x, Sobel y, Laplacian",
    "blur": "Blur: Gaussian, box",
    "sharpen": "Sharpen",
    "gabor": "Gabor at 8 orientations",
    "handmade": "All hand-made: edges, blur, sharpen, Gabor",
    "learned": "Learned from photos (ICA)",
}
# Banks that are learned from pictures: make_bank needs ``images`` for them.
IMAGE_BANKS = ("learned",)
LEARNED_TOOLTIP = (
    "Independent component analysis (FastICA) of 20,000 random patches of the photos, with no "
    "labels: it finds the filters whose responses are as sparse and independent as possible. "
    "They come out as oriented edges, gratings and colour blobs, the same kinds a trained "
    "AlexNet holds in conv1 (Krizhevsky et al. 2012, Fig. 3; Bell and Sejnowski 1997), though "
    "a trained network also tunes them to its task.")


def _binomial(n: int) -> np.ndarray:
    row = np.array([1.0])
    for _ in range(max(n - 1, 0)):
        row = np.convolve(row, [1.0, 1.0])
    return row


def sobel(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sobel x and y at size k: binomial smoothing times a binomial derivative (k=3: classic)."""
    if k < 2:
        return np.ones((1, 1)), np.ones((1, 1))
    smooth = _binomial(k)
    deriv = np.convolve(_binomial(k - 1), [-1.0, 1.0])  # k=3: [-1, 0, 1]
    gx = np.outer(smooth, deriv)
    gx /= np.abs(gx).sum() / 2
    return gx, gx.T.copy()


def gaussian(k: int, sigma: float | None = None) -> np.ndarray:
    sigma = sigma or max(k / 5.0, 0.5)
    r = np.arange(k) - (k - 1) / 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def laplacian(k: int) -> np.ndarray:
    """The classic 4-neighbour Laplacian at k=3; a zero-mean Laplacian of Gaussian otherwise."""
    if k == 3:
        return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
    if k < 3:
        return np.ones((k, k))
    sigma = k / 6.0
    r = np.arange(k) - (k - 1) / 2
    rr = r[:, None] ** 2 + r[None, :] ** 2
    log = (rr / (2 * sigma**2) - 1) * np.exp(-rr / (2 * sigma**2))
    log -= log.mean()
    return log / np.abs(log).sum() * 8


def box(k: int) -> np.ndarray:
    return np.full((k, k), 1.0 / (k * k))


def sharpen(k: int) -> np.ndarray:
    """Twice the identity minus a blur: ``[[0,-1,0],[-1,5,-1],[0,-1,0]]`` at k=3."""
    if k == 3:
        return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
    out = -gaussian(k)
    out[(k - 1) // 2, (k - 1) // 2] += 2.0
    return out


def gabor(k: int, theta: float, wavelength: float | None = None, phase: float = 0.0) -> np.ndarray:
    """A zero-mean Gabor filter at orientation ``theta`` (radians), unit L1 norm."""
    wavelength = wavelength or max(k / 2.0, 2.0)
    sigma = 0.56 * wavelength
    r = np.arange(k) - (k - 1) / 2
    y, x = np.meshgrid(r, r, indexing="ij")
    xr = x * math.cos(theta) + y * math.sin(theta)
    yr = -x * math.sin(theta) + y * math.cos(theta)
    g = np.exp(-(xr**2 + yr**2) / (2 * sigma**2)) * np.cos(2 * math.pi * xr / wavelength + phase)
    g -= g.mean()
    norm = np.abs(g).sum()
    return g / norm if norm > 0 else g


def _bank_2d(bank: str, k: int) -> list[tuple[str, np.ndarray]]:
    sx, sy = sobel(k)
    edges = [("Sobel x", sx), ("Sobel y", sy), ("Laplacian", laplacian(k))]
    blur = [("Gaussian", gaussian(k)), ("Box", box(k))]
    sharp = [("Sharpen", sharpen(k))]
    gab = [(f"Gabor {deg:g}°", gabor(k, math.radians(deg))) for deg in np.arange(0, 180, 22.5)]
    return {"edges": edges, "blur": blur, "sharpen": sharp, "gabor": gab,
            "handmade": edges + blur + sharp + gab, "random": []}[bank]


def _learned(filters: int, in_channels: int, k: int, seed: int, images):
    """The ICA part of the "learned" bank: as many filters as the patch size allows."""
    if images is None or len(images) == 0:
        raise ValueError("the learned kernel bank needs photos to learn from; none were given.")
    if in_channels not in (1, 3) or k < 2:
        return []
    count = min(filters, in_channels * k * k - 1)
    learned = learn_kernels(images, k=k, n=count, channels=in_channels, seed=seed)
    return [(f"ICA {i}", kernel) for i, kernel in enumerate(learned)]  # map i, from 0


def make_bank(bank: str, filters: int, in_channels: int, k: int, *, seed: int = 0, images=None):
    """``(weights (filters, in_channels, k, k) float32, names, note)``.

    When ``filters`` exceeds the bank, the rest are seeded LeCun-normal random filters and
    ``note`` says so in a sentence; when it is smaller, the bank is cut and ``note`` says that.
    The banks in :data:`IMAGE_BANKS` ("learned": :func:`learn_kernels` on ``images``, a list of
    ``(H, W, 3)`` RGB arrays in [0, 1], unit-norm kernels, at most ``in_channels k^2 - 1`` of
    them, for 1 or 3 input channels) need ``images``; the others ignore it.
    """
    if bank not in BANKS + IMAGE_BANKS:
        raise ValueError(f"unknown kernel bank {bank!r}; choose one of "
                         f"{', '.join(BANKS + IMAGE_BANKS)}")
    if bank == "learned":
        full = _learned(filters, in_channels, k, seed, images)
        made = [(name, kernel) for name, kernel in full]            # already (C, k, k)
    else:
        full = _bank_2d(bank, k)
        made = [(name, (kernel / in_channels)[None]) for name, kernel in full[:filters]]
    weights = np.empty((filters, in_channels, k, k), dtype=np.float32)
    for i, (_, kernel) in enumerate(made):
        weights[i] = kernel
    names = [name for name, _ in made]
    rest = filters - len(made)
    note = ""
    if rest:
        weights[len(made):] = lecun_normal(seed, (rest, in_channels, k, k), in_channels * k * k)
        names += [f"random {i}" for i in range(len(made), filters)]  # by map index, from 0
        if made:
            note = (f"The bank has {len(made)} filters; filters {len(made)} to {filters - 1} are "
                    f"random (LeCun normal, seed {seed}).")
        elif bank == "learned":
            note = (f"No filters can be learned from {in_channels}-channel {k} x {k} patches; "
                    f"all {filters} are random (LeCun normal, seed {seed}).")
    elif len(full) > filters:
        note = f"Only the first {filters} of the bank's {len(full)} filters are used."
    return weights, names, note


def handmade_conv1(filters: int = 96, in_channels: int = 3, k: int = 11) -> np.ndarray:
    """A hand-made AlexNet conv1: Gabor filters on luminance and colour-opponent blobs.

    Half the filters are Gabor edges (8 orientations x 2 phases x wavelengths), the rest
    colour-opponent centre blobs (red-green, blue-yellow, light-dark) as AlexNet learns them,
    so that untrained networks still show edges and colours.
    """
    out = np.zeros((filters, in_channels, k, k), dtype=np.float32)
    opponents = [(1, -1, 0), (-1, 1, 0), (-0.5, -0.5, 1), (0.5, 0.5, -1), (1, 1, 1), (-1, -1, -1)]
    n_gabor = filters // 2
    for i in range(n_gabor):
        theta = math.pi * (i % 8) / 8
        wavelength = k / (1.5 + (i // 16) % 3)
        g = gabor(k, theta, wavelength, phase=(math.pi / 2) * ((i // 8) % 2))
        out[i] = g / np.abs(g).max() / in_channels
    for j, i in enumerate(range(n_gabor, filters)):
        colour = np.array(opponents[j % len(opponents)], dtype=float)[:in_channels]
        blob = gaussian(k, sigma=k / (4 + 2 * ((j // len(opponents)) % 4)))
        out[i] = colour[:, None, None] * (blob / blob.max())[None] / k
    return out


def learned_conv1(images, filters: int = 96, in_channels: int = 3, k: int = 11, *,
                  seed: int = 0) -> np.ndarray:
    """A conv1 learned from photos: ``(filters, in_channels, k, k)`` float32, FastICA kernels
    (:func:`learn_kernels`, unit norm) as far as ``in_channels k^2 - 1`` allows, the rest
    LeCun-normal from ``seed``; the drop-in for :func:`handmade_conv1` (AlexBN: 96, 3, 11)."""
    weights, _, _ = make_bank("learned", filters, in_channels, k, seed=seed, images=images)
    return weights
