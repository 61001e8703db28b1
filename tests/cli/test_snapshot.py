"""``convlab snapshot``: the real window rendered offscreen to a PNG after its results."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from convlab.cli import main
from convlab.cli.snapshot import parse_size


def test_snapshot_writes_a_png_of_the_window(qtbot, tmp_path, capsys):
    out = tmp_path / "window.png"
    assert main(["snapshot", "--out", str(out), "--size", "900x640"]) == 0
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (900, 640)
    assert capsys.readouterr().out.strip().endswith("window.png")
    assert not list(tmp_path.glob("*.tmp-*"))


def test_snapshot_of_a_photo(qtbot, tmp_path, photo):
    out = tmp_path / "shot.png"
    assert main(["snapshot", str(photo(320, 240)), "--out", str(out)]) == 0
    assert QImage(str(out)).width() == 1280


def test_snapshot_refuses_a_bad_photo_in_one_line(qtbot, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert main(["snapshot", str(bad), "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("convlab snapshot:") and "\n" not in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("text, size", [("1280x800", (1280, 800)), ("1920X1080", (1920, 1080))])
def test_sizes_parse(text, size):
    assert parse_size(text) == size


def test_silly_sizes_are_refused():
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_size("12x8")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size("wide")
