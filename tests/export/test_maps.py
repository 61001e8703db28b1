"""convlab.export.maps: files, manifest, PNG text chunks, and all-or-nothing behaviour on failure."""

import errno
import json
import os
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import convlab
from convlab.export import maps as export
from convlab.export import transaction as export_commit
from convlab.pipelines import images as imaging
from convlab.render import colour as render
from convlab.render import png, tiles
from convlab.export.maps import ExportCancelled, ExportError, export_maps

SETTINGS = {"pipeline": "test", "image": {"path": "/photos/cat.jpg", "sha256": "ab" * 32}, "seed": 7}


def make_layers():
    rng = np.random.default_rng(0)
    return {"conv": rng.standard_normal((6, 5, 7)).astype(np.float32),
            "pool": np.maximum(rng.standard_normal((6, 3, 4)), 0).astype(np.float32),
            "fc": rng.standard_normal(10).astype(np.float32)}


def tree(root):
    """Every file under root (hidden ones too) -> its bytes."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


def test_files_manifest_and_text_chunks(tmp_path):
    layers = make_layers()
    result = export_maps(tmp_path / "out", layers, settings=SETTINGS, npy=True)
    out = tmp_path / "out"
    on_disk = set(tree(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert on_disk == {f["path"] for f in manifest["files"]} | {"manifest.json"}
    assert set(result.files) == on_disk and result.files[-1] == "manifest.json"
    assert sorted(p.name for p in (out / "conv").iterdir()) == [f"map_{i:03d}.png" for i in range(6)]
    assert {"conv_grid.png", "pool_grid.png", "fc_grid.png", "conv.npy", "fc.npy"} <= on_disk
    assert manifest["format"] == "convlab-export/1" and manifest["convlab_version"] == convlab.__version__
    assert manifest["settings"] == {**SETTINGS, "convlab_version": convlab.__version__}
    assert [L["name"] for L in manifest["layers"]] == ["conv", "pool", "fc"]

    entry = next(f for f in manifest["files"] if f["path"] == "pool/map_002.png")
    values = layers["pool"][2]
    assert entry["layer"] == "pool" and entry["index"] == 2 and entry["shape"] == [3, 4]
    assert entry["stats"]["min"] == pytest.approx(values.min(), rel=1e-6)
    assert entry["stats"]["max"] == pytest.approx(values.max(), rel=1e-6)
    assert entry["stats"]["mean"] == pytest.approx(values.mean(), rel=1e-5)
    assert entry["stats"]["zero_fraction"] == pytest.approx((values == 0).mean())
    assert entry["normalize"] == {"mode": "map", "lo": entry["stats"]["min"], "hi": entry["stats"]["max"]}
    with Image.open(out / "pool/map_002.png") as im:
        assert im.size == (4, 3)
        assert json.loads(im.text["convlab:settings"]) == manifest["settings"]
        assert json.loads(im.text["convlab:file"]) == entry
        assert im.text["Software"] == f"ConvLab {convlab.__version__}"
    assert np.array_equal(np.load(out / "conv.npy"), layers["conv"])
    assert np.array_equal(np.load(out / "fc.npy"), layers["fc"])


def test_pixels_follow_normalisation_and_scale(tmp_path):
    maps = np.array([[[0.0, 1.0], [2.0, 4.0]]], np.float32)
    export_maps(tmp_path, {"x": maps}, settings={}, cmap="gray", scale=3, grid=False)
    with Image.open(tmp_path / "x/map_000.png") as im:
        a = np.asarray(im.convert("RGB"))[..., 0]
    assert a.shape == (6, 6)
    assert np.array_equal(a[::3, ::3], [[0, 64], [128, 255]])      # (v - 0) / 4 * 255
    assert (a[:3, :3] == 0).all() and (a[3:, 3:] == 255).all()   # nearest-neighbour blocks
    export_maps(tmp_path / "f", {"x": maps}, settings={}, cmap="gray", normalize=("fixed", 0, 2))
    with Image.open(tmp_path / "f/x/map_000.png") as im:
        assert np.array_equal(np.asarray(im.convert("L")), [[0, 128], [255, 255]])
    m = json.loads((tmp_path / "f/manifest.json").read_text())
    assert m["render"]["normalize"] == {"mode": "fixed", "lo": 0, "hi": 2}


def test_grid_layout_size_and_vector_layer(tmp_path):
    export_maps(tmp_path, make_layers(), settings={}, per_map=True)
    with Image.open(tmp_path / "conv_grid.png") as im:  # 6 maps of 5x7 -> 2 rows x 3 cols, 1-px gaps
        assert im.size == (3 * 7 + 2, 2 * 5 + 1)
        assert im.getpixel((7, 0)) == render.NAN_COLOR    # the first vertical separator
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    conv = next(L for L in manifest["layers"] if L["name"] == "conv")
    assert conv["grid_layout"] == [2, 3] and conv["shape"] == [6, 5, 7]
    fc = next(L for L in manifest["layers"] if L["name"] == "fc")
    assert fc["kind"] == "vector" and fc["shape"] == [10] and fc["grid_layout"] == [2, 5]


def test_a_vector_is_drawn_by_vector_grid_without_padding(tmp_path):
    values = np.arange(1000, dtype=np.float32)
    export_maps(tmp_path, {"fc8": values}, settings={}, cmap="gray")
    for path in ("fc8/map_000.png", "fc8_grid.png"):  # 25 x 40, every cell a value (no separator colour)
        with Image.open(tmp_path / path) as im:
            a = np.asarray(im.convert("L"))
        assert a.shape == (25, 40)
        assert np.array_equal(a, render.apply_colormap(render.normalize(tiles.vector_grid(values)), "gray")[..., 0])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["layers"][0]["grid_layout"] == [25, 40] and manifest["layers"][0]["shape"] == [1000]
    assert {tuple(f["grid_layout"]) for f in manifest["files"] if f["kind"] != "npy"} == {(25, 40)}


def test_scale_enlarges_every_file_by_exactly_n(tmp_path):
    layers = {"conv": make_layers()["conv"], "fc": make_layers()["fc"]}   # (6, 5, 7) and (10,)
    export_maps(tmp_path / "one", layers, settings={})
    export_maps(tmp_path / "big", layers, settings={}, scale=64)
    for path in ("conv/map_005.png", "fc/map_000.png"):
        with Image.open(tmp_path / "one" / path) as small, Image.open(tmp_path / "big" / path) as big:
            assert big.size == (small.size[0] * 64, small.size[1] * 64)
            assert np.array_equal(np.asarray(big), tiles.enlarge(np.asarray(small), 64))
    with Image.open(tmp_path / "big" / "conv_grid.png") as im:  # 2 x 3 tiles of 320 x 448, 1-px gaps
        assert im.size == (3 * 7 * 64 + 2, 2 * 5 * 64 + 1)
        assert im.getpixel((7 * 64, 0)) == render.NAN_COLOR and im.getpixel((7 * 64 - 1, 0)) != render.NAN_COLOR
    manifest = json.loads((tmp_path / "big" / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["path"] == "conv/map_005.png")
    assert entry["image_size"] == [7 * 64, 5 * 64] and entry["scale"] == 64


def test_scale_never_builds_the_enlarged_layer_in_memory(tmp_path):
    maps = np.random.default_rng(0).standard_normal((96, 20, 20)).astype(np.float32)
    tracemalloc.start()
    try:  # numpy reports its arrays to tracemalloc; Pillow's enlarging on write is not counted
        export_maps(tmp_path / "m", {"conv": maps}, settings={}, scale=32, grid=False)
        maps_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        export_maps(tmp_path / "g", {"conv": maps}, settings={}, scale=32, per_map=False)
        grid_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # before: the whole layer enlarged in float32 (157 MB) and coloured (118 MB) at once
    assert maps_peak < 16 * 2**20
    grid_bytes = np.prod(tiles.grid_size(96, 20, 20, scale=32)) * 3  # the finished grid, 123 MB
    assert grid_peak < grid_bytes + 16 * 2**20


def test_no_png_over_the_pixel_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "MAX_PIXELS", 5000)
    maps = np.ones((4, 10, 10), np.float32)
    with pytest.raises(ExportError, match=r"at scale 8 the 10 × 10 maps of x would be 80 × 80 pixels.*use scale 7 or less"):
        export_maps(tmp_path / "r", {"x": maps}, settings={}, scale=8)
    assert not (tmp_path / "r").exists()
    export_maps(tmp_path / "g", {"x": maps}, settings={}, scale=8, per_map=False)   # a grid shrinks instead
    grid = json.loads((tmp_path / "g" / "manifest.json").read_text())["files"][0]
    assert grid["scale"] == 3 and grid["image_size"] == [2 * 30 + 1, 2 * 30 + 1]   # 81 x 81 at 4 is too many
    with Image.open(tmp_path / "g" / "x_grid.png") as im:
        assert im.size == (61, 61)


def test_out_of_memory_is_a_sentence(tmp_path, monkeypatch):
    def no_memory(*a, **k):
        raise MemoryError()
    monkeypatch.setattr(png, "write_png", no_memory)
    with pytest.raises(ExportError, match="failed: out of memory; the folder was left as it was"):
        export_maps(tmp_path / "o", make_layers(), settings={})


def test_layer_choice(tmp_path):
    r = export_maps(tmp_path / "a", make_layers(), settings={}, what="final")
    assert {f.split("/")[0] for f in r.files} == {"fc", "fc_grid.png", "manifest.json"}
    r = export_maps(tmp_path / "b", make_layers(), settings={}, what=["pool", "conv"], per_map=False)
    assert r.files == ["conv_grid.png", "pool_grid.png", "manifest.json"]  # network order
    with pytest.raises(ExportError, match="unknown layer 'relu'; choose from conv, pool, fc"):
        export_maps(tmp_path / "c", make_layers(), settings={}, what="relu")
    assert not (tmp_path / "c").exists()


def test_progress_counts_every_file_and_cancel_leaves_nothing(tmp_path):
    seen = []
    r = export_maps(tmp_path / "ok", make_layers(), settings={}, progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == list(range(1, len(r.files) + 1))
    assert {t for _, t in seen} == {len(r.files)}
    with pytest.raises(ExportCancelled):
        export_maps(tmp_path / "new", make_layers(), settings={}, progress=lambda d, t: d < 4)
    assert not (tmp_path / "new").exists()   # a folder this export created is removed again
    calls = iter(range(100))
    with pytest.raises(ExportCancelled):
        export_maps(tmp_path / "ok", make_layers(), settings={}, cancel=lambda: next(calls) > 2)
    assert set(tree(tmp_path / "ok")) == set(r.files)


@pytest.fixture
def earlier(tmp_path):
    """A folder holding an earlier export plus a user's own files."""
    out = tmp_path / "out"
    export_maps(out, make_layers(), settings={"run": 1})
    (out / "notes.txt").write_text("mine")
    (out / "conv" / "my_drawing.png").write_bytes(b"not ours")
    return out


def new_layers():
    return {"conv": np.ones((3, 2, 2), np.float32), "relu": np.zeros((2, 2, 2), np.float32)}


def test_disk_full_while_writing_keeps_the_folder_as_it_was(earlier, monkeypatch):
    before = tree(earlier)
    real, count = png.write_png, iter(range(100))

    def filling(*a, **k):
        if next(count) == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*a, **k)
    monkeypatch.setattr(png, "write_png", filling)
    with pytest.raises(ExportError, match="disk is full") as info:
        export_maps(earlier, new_layers(), settings={"run": 2})
    assert "\n" not in str(info.value)
    assert tree(earlier) == before


def _fail_at(step):
    def fail(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    return fail


@pytest.mark.parametrize("step", ["locked", "swept", "planned", "carried", "sealed", "link",
                                  "exchange"])
def test_failure_while_moving_into_place_restores_everything(earlier, monkeypatch, step):
    """A failure at each step of the final step, up to and including the swap itself."""
    before, parent = tree(earlier), sorted(os.listdir(earlier.parent))
    if step == "link":       # giving the user's own files a second name in the new folder
        monkeypatch.setattr(export_commit.tree.os, "link", _fail_at(step))
    elif step == "exchange":
        monkeypatch.setattr(export_commit.exchange, "exchange", _fail_at(step))
    else:
        monkeypatch.setattr(export_commit, "checkpoint",
                            lambda name: _fail_at(step)() if name == step else None)
    with pytest.raises(ExportError, match="disk is full; the folder was left as it was"):
        export_maps(earlier, new_layers(), settings={"run": 2})
    monkeypatch.undo()
    assert tree(earlier) == before
    assert sorted(os.listdir(earlier.parent)) == parent  # no staging folder left beside it


def test_unwritable_target(tmp_path, monkeypatch):
    (tmp_path / "keep.txt").write_text("x")

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))
    monkeypatch.setattr(export_commit.guard, "make_staging_dir", denied)  # as root, chmod is moot
    with pytest.raises(ExportError, match="permission denied"):
        export_maps(tmp_path / "sub" / "out", make_layers(), settings={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_target_under_a_regular_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match=r"afile is a file, not a folder"):
        export_maps(tmp_path / "afile" / "out", make_layers(), settings={})
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_maps(tmp_path / "afile", make_layers(), settings={})
    assert (tmp_path / "afile").read_text() == "x"


def test_re_export_replaces_only_its_own_earlier_files(earlier):
    export_maps(earlier, new_layers(), settings={"run": 2})
    files = set(tree(earlier))
    assert {"notes.txt", "conv/my_drawing.png"} <= files
    assert not any(f.startswith(("pool", "fc")) for f in files)          # stale: removed
    assert sorted(f for f in files if f.startswith("conv/map")) == [f"conv/map_00{i}.png" for i in range(3)]
    assert not any(part.startswith(".") for f in files for part in f.split(os.sep))
    assert json.loads((earlier / "manifest.json").read_text())["settings"]["run"] == 2


def test_keyboard_interrupt_cleans_up_and_propagates(earlier, monkeypatch):
    before = tree(earlier)

    def interrupt(d, t):
        if d == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        export_maps(earlier, new_layers(), settings={}, progress=interrupt)
    assert tree(earlier) == before


def test_bad_options_are_refused_before_writing(tmp_path):
    for kwargs, match in [({"cmap": "nope"}, "unknown colormap"), ({"normalize": "fixed:2,1"}, "LO < HI"),
                          ({"scale": 0}, "scale"), ({"grid": False, "per_map": False}, "all switched off")]:
        with pytest.raises(ExportError, match=match):
            export_maps(tmp_path / "x", make_layers(), settings={}, **kwargs)
    with pytest.raises(ExportError, match="expected"):
        export_maps(tmp_path / "x", {"bad": np.zeros((1, 2, 3, 4, 5))}, settings={})
    assert not (tmp_path / "x").exists()
    assert export.select_layers(["a", "b", "c"], "c, a") == ["a", "c"]
