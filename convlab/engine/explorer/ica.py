"""Kernels learned from photos: FastICA on natural-image patches (NumPy only).

Independent component analysis of small patches of natural images learns localised, oriented
edge and grating filters without any labels (Bell and Sejnowski 1997; Olshausen and Field
1996), the same kinds that a trained AlexNet holds in conv1 (Krizhevsky et al. 2012, Fig. 3).
With colour patches (C = 3) colour-opponent blobs appear as well.

The recipe (Hyvarinen, Karhunen and Oja 2001, ch. 8 and 20):

1. ``patches`` random ``C x k x k`` patches, each minus its own mean (the DC, one value over
   all channels, so colour differences stay): ``X`` of shape ``(P, D)``, ``D = C k^2``.
2. PCA whitening to the ``n`` strongest components: ``Z = diag(1/sqrt(lambda)) E^T X^T``,
   ``(n, P)``, unit covariance.
3. Symmetric FastICA with ``G(u) = log cosh u``: ``W <- E[g(WZ) Z^T] - diag(E[g'(WZ)]) W``,
   ``g = tanh``, then ``W <- (W W^T)^(-1/2) W``; stops when ``max |1 - |diag(W_new W^T)|| < tol``.
4. The filters are the rows of ``W diag(1/sqrt(lambda)) E^T`` (what, convolved with the image,
   gives the independent components), each made unit L2 norm, its largest coefficient positive,
   sorted by non-Gaussianity (most sparse first).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as the explorer's grey input
_LOGCOSH_GAUSS = 0.3745672  # E[log cosh(v)] for a standard normal v
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


@dataclass
class ICAResult:
    """``sources (n, P)`` = ``unmixing (n, m)`` @ (x - mean); ``mixing (m, n)`` maps back."""

    sources: np.ndarray
    unmixing: np.ndarray
    mixing: np.ndarray
    iterations: int
    converged: bool


def _symmetric_decorrelation(w: np.ndarray) -> np.ndarray:
    """``(W W^T)^(-1/2) W``: the nearest matrix with orthonormal rows."""
    eigval, eigvec = np.linalg.eigh(w @ w.T)
    eigval = np.maximum(eigval, 1e-12)
    return (eigvec * (1.0 / np.sqrt(eigval))) @ eigvec.T @ w


def pca_whitening(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(whitening (n, m), dewhitening (m, n))`` for centred data ``x (m, P)``.

    Keeps the ``n`` directions of largest variance; ``whitening @ x`` has unit covariance.
    """
    cov = x @ x.T / x.shape[1]                                     # (m, m)
    eigval, eigvec = np.linalg.eigh(cov)                           # ascending
    eigval, eigvec = eigval[::-1][:n], eigvec[:, ::-1][:, :n]
    if eigval[-1] <= 1e-10 * max(eigval[0], 1e-30):
        raise ValueError(f"ICA: the data span fewer than {n} independent directions; "
                         "ask for fewer components or give more varied images.")
    scale = np.sqrt(eigval)
    return (eigvec / scale).T, eigvec * scale


def fastica(x: np.ndarray, n: int | None = None, *, seed: int = 0, max_iter: int = 200,
            tol: float = 1e-4) -> ICAResult:
    """Symmetric FastICA (Hyvarinen 1999) with ``g = tanh`` on mixtures ``x (m, P)``.

    ``n`` components (default ``m``) after PCA whitening; the starting matrix is drawn from
    ``np.random.default_rng(seed)``, so the result is the same for the same seed and data.
    Sources come out with unit variance; their order and signs are arbitrary, as in all ICA.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0] if n is None else n
    centred = x - x.mean(axis=1, keepdims=True)                    # (m, P)
    whitening, dewhitening = pca_whitening(centred, n)
    z = (whitening @ centred).astype(np.float32)                   # (n, P)
    w, iterations, converged = _fastica_whitened(z, seed, max_iter, tol)
    unmixing = w @ whitening                                       # (n, m)
    return ICAResult(sources=unmixing @ centred, unmixing=unmixing, mixing=dewhitening @ w.T,
                     iterations=iterations, converged=converged)


def _fastica_whitened(z: np.ndarray, seed: int, max_iter: int, tol: float):
    """FastICA on whitened ``z (n, P)`` float32 -> ``(W (n, n) float64, iterations, converged)``.

    With ``P >= 8000`` a warm start first runs on the first quarter of the samples to ``10 tol``
    (a quarter of the cost per step), then the full data refines it to ``tol``.
    """
    w = _symmetric_decorrelation(np.random.default_rng(seed).standard_normal((z.shape[0],) * 2))
    done = 0
    if z.shape[1] >= 8000:
        quarter = np.ascontiguousarray(z[:, :z.shape[1] // 4])     # (n, P/4)
        w, done, _ = _iterate(quarter, w, max_iter, 10 * tol)
    w, more, converged = _iterate(z, w, max_iter - done, tol)
    return w, done + more, converged


def _iterate(z: np.ndarray, w: np.ndarray, max_iter: int, tol: float):
    """The symmetric fixed-point step with ``g = tanh`` repeated until the rows stop turning."""
    count = z.shape[1]
    for iteration in range(1, max_iter + 1):
        g = np.tanh(w.astype(np.float32) @ z)                      # (n, P)
        g_prime_mean = 1.0 - np.einsum("ij,ij->i", g, g, dtype=np.float64) / count
        w_new = (g @ z.T).astype(np.float64) / count - g_prime_mean[:, None] * w
        w_new = _symmetric_decorrelation(w_new)
        change = np.max(np.abs(1.0 - np.abs(np.einsum("ij,ij->i", w_new, w))))
        w = w_new
        if change < tol:
            return w, iteration, True
    return w, max_iter, False


def _grey_or_rgb(image: np.ndarray, channels: int) -> np.ndarray:
    """``(H, W, 3)`` or ``(H, W)`` in [0, 1] -> ``(C, H, W)`` float32 with C = ``channels``."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[:, :, None].repeat(3, axis=2)                # (H, W, 3)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"learn_kernels: expected (H, W, 3) RGB images, got shape {image.shape}.")
    if channels == 1:
        return (image @ LUMA.astype(np.float32))[None]             # (1, H, W)
    return np.ascontiguousarray(image.transpose(2, 0, 1))          # (3, H, W)


def sample_patches(images, k: int, count: int, channels: int, rng) -> np.ndarray:
    """``count`` random ``(C, k, k)`` patches as rows ``(count, C k^2)`` float64.

    Each patch's image is drawn in proportion to its number of patch positions, then the
    position uniformly inside it.
    """
    planes = [_grey_or_rgb(img, channels) for img in images]
    positions = np.array([max(p.shape[1] - k + 1, 0) * max(p.shape[2] - k + 1, 0)
                          for p in planes], dtype=np.float64)
    if positions.sum() == 0:
        raise ValueError(f"learn_kernels: no image is at least {k} x {k} pixels.")
    which = rng.choice(len(planes), size=count, p=positions / positions.sum())
    out = np.empty((count, channels, k, k), dtype=np.float64)
    for index, plane in enumerate(planes):
        rows = np.flatnonzero(which == index)
        if rows.size == 0:
            continue
        top = rng.integers(0, plane.shape[1] - k + 1, size=rows.size)
        left = rng.integers(0, plane.shape[2] - k + 1, size=rows.size)
        offsets = np.arange(k)
        ys = (top[:, None] + offsets)[:, :, None]                  # (r, k, 1)
        xs = (left[:, None] + offsets)[:, None, :]                 # (r, 1, k)
        out[rows] = plane[:, ys, xs].transpose(1, 0, 2, 3)         # (C, r, k, k) -> (r, C, k, k)
    return out.reshape(count, channels * k * k)                    # (count, C*k*k)


def _images_digest(images) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for img in images:
        arr = np.ascontiguousarray(img)
        digest.update(f"{arr.shape}{arr.dtype.str}".encode())
        digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def learn_kernels(images, *, k: int, n: int, channels: int, seed: int = 0,
                  patches: int = 20000) -> np.ndarray:
    """``n`` unit-norm filters ``(n, channels, k, k)`` float32 learned by FastICA from photos.

    ``images``: a sequence of ``(H, W, 3)`` RGB arrays in [0, 1]; ``channels`` 1 (grey,
    BT.601 luma) or 3 (RGB, colour kept); ``n`` at most ``channels k^2 - 1`` (the patch mean is
    removed). The result depends only on the images, ``k``, ``n``, ``channels``, ``seed`` and
    ``patches`` and is cached per those (the images by a hash of their pixels); the returned
    array is the caller's own copy. Defaults: ``seed=0``, ``patches=20000``.
    """
    if channels not in (1, 3):
        raise ValueError(f"learn_kernels: channels must be 1 (grey) or 3 (RGB), got {channels}.")
    if k < 2 or not 1 <= n <= channels * k * k - 1:
        raise ValueError(f"learn_kernels: {channels} x {k} x {k} patches give at most "
                         f"{max(channels * k * k - 1, 0)} kernels (k >= 2); {n} were asked for.")
    if patches < 2 * n:
        raise ValueError(f"learn_kernels: {n} kernels need at least {2 * n} patches, "
                         f"got {patches}.")
    images = list(images)
    key = (_images_digest(images), k, n, channels, seed, patches)
    if key not in _CACHE:
        _CACHE[key] = _learn(images, k, n, channels, seed, patches)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key].copy()


def _learn(images, k, n, channels, seed, patches) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = sample_patches(images, k, patches, channels, rng)         # (P, D)
    x -= x.mean(axis=1, keepdims=True)                             # remove each patch's DC
    x -= x.mean(axis=0)                                            # centre over the patches
    whitening, _ = pca_whitening(x.T, n)                           # (n, D)
    z = (whitening @ x.T).astype(np.float32)                       # (n, P)
    w, _, _ = _fastica_whitened(z, seed, max_iter=200, tol=1e-4)
    filters = w @ whitening                                        # (n, D)
    sources = filters @ x.T                                        # (n, P), unit variance
    non_gauss = np.abs(np.log(np.cosh(sources)).mean(axis=1) - _LOGCOSH_GAUSS)
    filters = filters[np.argsort(-non_gauss, kind="stable")]
    filters /= np.linalg.norm(filters, axis=1, keepdims=True)
    peak = filters[np.arange(n), np.argmax(np.abs(filters), axis=1)]
    filters *= np.sign(peak)[:, None]
    return filters.reshape(n, channels, k, k).astype(np.float32)  # (n, C, k, k)


def orientation_selectivity(kernels: np.ndarray, *, half_width: float = 22.5,
                            fft_size: int = 32) -> np.ndarray:
    """Share of each kernel's spectral energy within +-``half_width`` degrees of its dominant
    orientation, ``(F,)`` in [0, 1] (about 0.25 + noise for an isotropic kernel at 22.5).

    Energy: ``sum_c |FFT2(kernel_c)|^2`` on a ``fft_size`` grid, DC left out; each frequency's
    orientation is ``atan2(fy, fx)`` mod 180 degrees; the dominant orientation is the one whose
    +-``half_width`` window (searched in 1-degree steps) holds the most energy.
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    flat = kernels.reshape(kernels.shape[0], -1, *kernels.shape[-2:])  # (F, C, kh, kw)
    power = (np.abs(np.fft.fft2(flat, s=(fft_size, fft_size))) ** 2).sum(axis=1)  # (F, s, s)
    freq = np.fft.fftfreq(fft_size)
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    angle = np.degrees(np.arctan2(fy, fx)) % 180.0                  # (s, s)
    power[:, 0, 0] = 0.0
    centres = np.arange(180.0)                                      # (A,)
    distance = np.abs((angle.ravel()[None, :] - centres[:, None] + 90.0) % 180.0 - 90.0)
    window = (distance <= half_width).astype(np.float64)           # (A, s*s)
    energy = power.reshape(power.shape[0], -1)                      # (F, s*s)
    total = np.maximum(energy.sum(axis=1), 1e-30)
    return (energy @ window.T).max(axis=1) / total
