"""Feature maps -> PNG files and a manifest, all or nothing (no Qt; the CLI and the window use it).

Layout under the target folder (names sort; map numbers are zero-padded to at least 3 digits)::

    conv1/map_000.png ...   one PNG per map, native resolution (nearest-neighbour x ``scale``)
    conv1_grid.png          every map of the layer tiled row by row, 1-pixel separators
    conv1.npy               optional: the layer's raw float32 values, unscaled
    manifest.json           written last: describes every file

A vector layer (fc6, ``(4096,)``) is one map laid out by :func:`convlab.render.tiles.vector_grid`
(64 x 64; 1000 values: 25 x 40). Maps are coloured at native size and enlarged as each file is
written. No PNG exceeds ``imaging.MAX_PIXELS`` (Pillow's bomb limit, ConvLab's too): a scale
that would make a map larger is refused; a grid is enlarged less (its entry's ``scale``).

``manifest.json`` keys:

- ``format``: ``"convlab-export/1"``; ``generator``: ``"convlab"``; ``convlab_version``;
  ``created`` (UTC, ISO 8601).
- ``checksums``: ``{path: {bytes, sha256}}`` of every file listed: how a later export proves
  which files are ConvLab's (:mod:`convlab.export.owned`).
- ``settings``: what the caller passed (image path and sha256, pipeline, seed, weights, ...),
  plus ``convlab_version``. The same JSON is in every PNG's ``convlab:settings`` text chunk.
  Text that is not valid UTF-8 (a file name in another encoding, which Python holds as
  surrogate escapes) is written with each odd byte as ``\\xff``.
- ``render``: ``colormap``, ``normalize`` (``"map"``, ``"layer"`` or ``{"mode": "fixed", "lo",
  "hi"}``), ``scale``, ``separator`` (pixels), ``separator_color`` (RGB).
- ``layers``: in order, ``{name, shape, kind ("maps" | "vector"), folder, grid, grid_layout
  [rows, cols], npy, stats}``. ``grid_layout`` counts maps in the grid (null without a grid);
  for a vector it is the vector's own layout, unit ``i`` at ``divmod(i, cols)``.
- ``files``: one entry per file, ``{path, kind ("map" | "grid" | "npy"), layer, index (map number
  or null), shape (of the data), image_size [width, height] (PNGs), scale (PNGs), stats,
  normalize}``; grids and a vector's map also carry ``grid_layout``.
  ``stats`` is ``{min, max, mean, zero_fraction}``; ``normalize`` gives the mode and the ``lo``/
  ``hi`` that map to the colormap's ends (lists, one per map, in a grid's entry under ``"map"``).
  Each PNG's ``convlab:file`` text chunk holds its own entry.

Everything is written into a hidden folder beside the target and then swapped into place in
one step (:mod:`convlab.export.transaction`): after any failure, a cancel or a signal (SIGKILL
too) the folder holds the old files or the new ones. A later export into the same folder
replaces only the files of an earlier one that its manifest proves (``generator`` and
``checksums`` below); a file of anyone else where the export would write refuses the export in
one sentence, and every other file is kept.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from convlab import __version__
from convlab.pipelines import images as imaging
from convlab.engine.wording import count_noun, shape_text
from convlab.render import colour, png, tiles
from convlab.export.options import check_options, select_layers
from convlab.export.names import folder_names, printable
from convlab.export.owned import GENERATOR, MANIFEST, fingerprint
from convlab.export.transaction import Transaction, explain_failure

FORMAT = "convlab-export/1"


class ExportError(Exception):
    """An export that did not happen; ``str(exc)`` is one sentence for a person."""


class ExportCancelled(ExportError):
    """The progress callback returned False (or ``cancel()`` returned True)."""


@dataclass
class ExportResult:
    out_dir: Path
    files: list[str] = field(default_factory=list)  # relative to out_dir, manifest last
    manifest: dict = field(default_factory=dict)
    seconds: float = 0.0


def _stats(values: np.ndarray) -> list[dict]:
    """Per-map ``{min, max, mean, zero_fraction}`` of ``(F, ...)`` values."""
    flat = values.reshape(values.shape[0], -1).astype(np.float64)
    cols = (flat.min(1), flat.max(1), flat.mean(1), (flat == 0).mean(1))
    return [dict(zip(("min", "max", "mean", "zero_fraction"), (_num(c[i]) for c in cols)))
            for i in range(flat.shape[0])]


def _num(x):
    """A JSON-safe float with 7 significant digits (None for NaN or infinity)."""
    x = float(x)
    return float(f"{x:.7g}") if math.isfinite(x) else None


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)  # paths and the like


def _json(obj, indent=None) -> str:
    return json.dumps(printable(obj), default=_json_default, ensure_ascii=False,
                      allow_nan=False, indent=indent)


@dataclass
class _Layer:
    name: str
    folder: str
    values: np.ndarray   # (F, ...) for statistics and .npy
    picture: np.ndarray  # (F, h, w) for the PNGs; a vector as (1, rows, cols)
    kind: str


def _prepare_layer(name: str, folder: str, array) -> _Layer:
    a = np.asarray(array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else array,
                   dtype=np.float32)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]                                                        # (F, h, w)
    if a.ndim == 3:
        return _Layer(name, folder, a, a, "maps")
    if a.ndim == 2:
        return _Layer(name, folder, a[None], a[None], "maps")
    if a.ndim == 1 and a.size:
        return _Layer(name, folder, a[None], tiles.vector_grid(a)[None], "vector")
    raise ExportError(f"layer {name} has shape {a.shape}; expected (F, h, w) maps or a vector.")


def _check_options(layers, what, **options):
    """Refuse bad options before anything is written: ``(names, cmap, mode)`` or ExportError."""
    try:
        names = select_layers(list(layers), what)
        cmap, mode = check_options(**options)
    except ValueError as exc:
        raise ExportError(f"Cannot export: {exc}.") from None
    if not names:
        raise ExportError("Cannot export: there are no maps to export.")
    return names, cmap, mode


def export_maps(out_dir, layers: dict, *, settings: dict, what="all", grid: bool = True,
                per_map: bool = True, npy: bool = False, cmap: str = "viridis", normalize="map",
                scale: int = 1, sep: int = 1, progress: Callable[[int, int], bool] | None = None,
                cancel: Callable[[], bool] | None = None) -> ExportResult:
    """Write the chosen layers' maps under ``out_dir`` (see the module docstring).

    ``layers`` maps a name to ``(F, h, w)`` maps, an ``(h, w)`` map or an ``(N,)`` vector (a
    leading batch axis of 1 is dropped). ``progress(done, total)`` is called after each file;
    returning False cancels. Raises :class:`ExportError` (``ExportCancelled`` on cancel).
    """
    t0 = time.perf_counter()
    names, cmap, mode = _check_options(layers, what, grid=grid, per_map=per_map, npy=npy, cmap=cmap,
                                       normalize=normalize, scale=scale, sep=sep)
    prepared = [_prepare_layer(n, f, layers[n]) for n, f in zip(names, folder_names(names))]
    for L in prepared if per_map else ():  # refuse a scale that makes one map too large to open
        h, w = L.picture.shape[1:]
        if (fits := tiles.fit_scale(1, h, w, scale=scale, max_pixels=imaging.MAX_PIXELS)) < scale:
            raise ExportError(f"Cannot export: at scale {scale} the {shape_text((w, h))} maps of "
                              f"{L.name} would be {shape_text((w * scale, h * scale))} pixels, over "
                              f"the {imaging.MAX_PIXELS / 1e6:.0f}-megapixel limit of ConvLab and "
                              f"Pillow; use scale {fits} or less.")
    settings = {**settings, "convlab_version": settings.get("convlab_version", __version__)}
    look = {"colormap": cmap, "normalize": mode if isinstance(mode, str) else
            {"mode": "fixed", "lo": mode[1], "hi": mode[2]}, "scale": int(scale),
            "separator": int(sep), "separator_color": list(colour.NAN_COLOR)}
    total = 1 + sum((per_map and L.picture.shape[0]) + grid + npy for L in prepared)
    out = Path(out_dir).expanduser().absolute()
    tx = None
    try:
        writer = _Writer(settings, look, mode, progress, cancel, total)
        with Transaction(out, wait=writer.check_cancel) as tx:
            for layer in prepared:
                writer.layer(tx.staging, layer, grid=grid, per_map=per_map, npy=npy)
            manifest = {"format": FORMAT, "generator": GENERATOR, "convlab_version": __version__,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "settings": settings, "render": look, "layers": writer.layers,
                        "files": writer.files, "checksums": writer.checksums}
            (tx.staging / MANIFEST).write_text(_json(manifest, indent=1) + "\n", encoding="utf-8")
            writer.tick()
            tx.commit([f["path"] for f in writer.files] + [MANIFEST])
    except ExportError:
        raise
    except KeyboardInterrupt as exc:  # held through the final step: all in place, or nothing
        exc.export_complete = tx is not None and tx.committed
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
        raise ExportError(explain_failure(exc, out)) from exc
    return ExportResult(out, [f["path"] for f in writer.files] + [MANIFEST], manifest,
                        time.perf_counter() - t0)


class _Writer:
    """Renders layers into the staging folder and collects their manifest entries."""

    def __init__(self, settings, look, mode, progress, cancel, total):
        self.settings_json = _json(settings)
        self.look, self.mode = look, mode  # look: the manifest's "render" entry
        self.mode_name = mode if isinstance(mode, str) else "fixed"
        self.progress, self.cancel, self.total, self.done = progress, cancel, total, 0
        self.files: list[dict] = []
        self.checksums: dict[str, dict] = {}  # path -> {bytes, sha256}, for the manifest
        self.layers: list[dict] = []
        self.software = f"ConvLab {__version__}"

    def tick(self, staging: Path | None = None, path: str | None = None) -> None:
        """One more file done (``staging / path``, fingerprinted for the manifest)."""
        if path is not None:
            self.checksums[path] = fingerprint(staging / path)
        self.done += 1
        if (self.cancel is not None and self.cancel()) or (
                self.progress is not None and self.progress(self.done, self.total) is False):
            raise ExportCancelled("Export cancelled; the folder was left as it was.")

    def check_cancel(self) -> None:
        """Called while another export into the same place finishes: cancel still works."""
        if self.cancel is not None and self.cancel():
            raise ExportCancelled("Export cancelled; the folder was left as it was.")

    def _png(self, staging: Path, entry: dict, rgb: np.ndarray, title: str, description: str, enlarge=1):
        """Write ``rgb`` (enlarged ``enlarge`` times as it is written) with its entry as text."""
        entry["image_size"] = [int(rgb.shape[1]) * enlarge, int(rgb.shape[0]) * enlarge]
        text = {"Software": self.software, "Title": title, "Description": description,
                "convlab:settings": self.settings_json, "convlab:file": _json(entry)}
        png.write_png(staging / entry["path"], rgb, text, compress_level=1, scale=enlarge)
        self.files.append(entry)
        self.tick(staging, entry["path"])

    def layer(self, staging: Path, L: _Layer, *, grid: bool, per_map: bool, npy: bool) -> None:
        """Write one layer's map PNGs, grid and .npy (as asked) and record them."""
        norm = colour.normalize(L.picture, self.mode)                    # (F, h, w) in [0, 1], native
        rgb = colour.apply_colormap(norm, self.look["colormap"])         # (F, h, w, 3) uint8, native
        lo, hi = colour.normalize_bounds(L.picture, self.mode)           # each (F, 1, 1)
        shape = [int(L.values.size)] if L.kind == "vector" else list(L.values.shape)
        layout = list(L.picture.shape[1:]) if L.kind == "vector" else None
        record = {"name": L.name, "shape": shape, "kind": L.kind, "folder": None, "grid": None,
                  "grid_layout": layout, "npy": None, "stats": _stats(L.values.reshape(1, -1))[0]}
        if per_map:
            record["folder"] = self._maps(staging, L, rgb, lo, hi, layout)
        if grid:
            record["grid"], record["grid_layout"] = self._grid(staging, L, rgb, lo, hi, record)
        if npy:
            record["npy"] = self._npy(staging, L, record)
        self.layers.append(record)

    def _maps(self, staging, L: _Layer, rgb, lo, hi, layout) -> str:
        (staging / L.folder).mkdir()
        cmap, stats = self.look["colormap"], _stats(L.values)
        shape = [int(L.values.size)] if L.kind == "vector" else list(L.values.shape[1:])
        digits = max(3, len(str(len(rgb) - 1)))
        for i in range(len(rgb)):
            bounds = {"mode": self.mode_name, "lo": _num(lo[i, 0, 0]), "hi": _num(hi[i, 0, 0])}
            entry = {"path": f"{L.folder}/map_{i:0{digits}d}.png", "kind": "map", "layer": L.name,
                     "index": i, "shape": shape, "stats": stats[i], "normalize": bounds,
                     "scale": self.look["scale"], **({"grid_layout": layout} if layout else {})}
            self._png(staging, entry, rgb[i], f"{L.name} map {i}",
                      f"Feature map {i} of layer {L.name} ({shape_text(shape)}), "
                      f"{cmap} colormap from {bounds['lo']} to {bounds['hi']}.", self.look["scale"])
        return L.folder

    def _grid(self, staging, L: _Layer, coloured, lo, hi, record) -> tuple[str, list[int]]:
        sep, cmap, (n, h, w) = self.look["separator"], self.look["colormap"], coloured.shape[:3]
        scale = tiles.fit_scale(n, h, w, scale=self.look["scale"], sep=sep, max_pixels=imaging.MAX_PIXELS)
        rgb, (rows, cols) = tiles.tile_rgb(coloured, scale=scale, sep=sep)
        if self.mode_name == "map":  # one range per map, in map order
            bounds = {"mode": "map", "lo": [_num(v) for v in lo.ravel()], "hi": [_num(v) for v in hi.ravel()]}
        else:
            bounds = {"mode": self.mode_name, "lo": _num(lo.flat[0]), "hi": _num(hi.flat[0])}
        layout = record["grid_layout"] or [rows, cols]
        entry = {"path": f"{L.folder}_grid.png", "kind": "grid", "layer": L.name, "index": None,
                 "shape": record["shape"], "stats": record["stats"], "normalize": bounds,
                 "grid_layout": layout, "scale": scale}  # scale: less than asked if it had to be
        what = (f"All {count_noun(n, 'map')}" if L.kind == "maps"
                else f"The {count_noun(record['shape'][0], 'value')}")
        self._png(staging, entry, rgb, f"{L.name} grid", f"{what} of layer {L.name}, "
                  f"{count_noun(layout[0], 'row')} by {count_noun(layout[1], 'column')}, "
                  f"{cmap} colormap.")
        return entry["path"], layout

    def _npy(self, staging, L: _Layer, record) -> str:
        path = f"{L.folder}.npy"
        raw = L.values.reshape(-1) if L.kind == "vector" else L.values  # unscaled, as computed
        np.save(staging / path, np.ascontiguousarray(raw, dtype=np.float32))
        self.files.append({"path": path, "kind": "npy", "layer": L.name, "index": None,
                           "shape": list(raw.shape), "stats": record["stats"], "normalize": None})
        self.tick(staging, path)
        return path
