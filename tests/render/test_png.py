"""convlab.render.png: PNG files with text chunks, enlarged as they are written."""

import json

import numpy as np
import pytest
from PIL import Image

from convlab.export.atomic import atomic_path
from convlab.render import tiles
from convlab.render.png import write_png


def test_write_png_scale_enlarges_as_it_writes(tmp_path):
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    write_png(tmp_path / "s.png", rgb, {}, scale=4)
    with Image.open(tmp_path / "s.png") as im:
        a = np.asarray(im)
    assert a.shape == (8, 12, 3) and np.array_equal(a[::4, ::4], rgb)
    assert np.array_equal(a, tiles.enlarge(rgb, 4))
    with pytest.raises(ValueError, match="scale"):
        write_png(tmp_path / "z.png", rgb, {}, scale=0)


def test_write_png_text_chunks_and_atomic_placement(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    text = {"convlab:settings": json.dumps({"kernel": 11}), "Comment": "Größe ✓"}
    write_png(path, np.zeros((4, 6, 3), np.uint8), text)
    with Image.open(path) as im:
        assert im.size == (6, 4) and im.text["Comment"] == "Größe ✓"
        assert json.loads(im.text["convlab:settings"]) == {"kernel": 11}
    before = path.read_bytes()

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(OSError):
        with atomic_path(path) as tmp:  # the window's and snapshot's one-file write
            write_png(tmp, np.ones((4, 6), np.uint8), {})
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
