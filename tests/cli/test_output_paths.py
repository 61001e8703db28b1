"""Output paths: only a regular file or a new path is written, never a folder, pipe or device;
a failed write leaves no temporary file and says so in one sentence."""

from __future__ import annotations

import errno
import os

import pytest

from convlab.cli import main
from convlab.export.atomic import WriteFailed, atomic_path
from convlab.pipelines.guard import PathRefused


def _kinds(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    return {"folder": (str(folder), "a folder"), "pipe": (str(fifo), "a named pipe"),
            "device": ("/dev/null", "a character device"), "empty": ("", "No")}


@pytest.mark.parametrize("kind", ["folder", "pipe", "device", "empty"])
def test_snapshot_refuses_what_is_not_a_regular_file(qtbot, tmp_path, capsys, kind):
    path, words = _kinds(tmp_path)[kind]
    before = sorted(os.listdir(tmp_path))
    assert main(["snapshot", "--out", path]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("convlab snapshot:") and words in err and "\n" not in err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, no temporary file
    if kind == "device":
        assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


@pytest.mark.parametrize("kind", ["folder", "pipe", "device", "empty"])
def test_atomic_path_refuses_before_creating_anything(tmp_path, kind):
    path, words = _kinds(tmp_path)[kind]
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(PathRefused, match=words):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"x")
    assert sorted(os.listdir(tmp_path)) == before


def test_a_full_disk_leaves_no_temporary_file_and_one_sentence(tmp_path):
    target = tmp_path / "shot.png"
    target.write_bytes(b"old")
    with pytest.raises(WriteFailed) as info:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a PNG")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    text = str(info.value)
    assert "no space left on device" in text and "left as it was" in text
    assert "[Errno" not in text and ".tmp" not in text
    assert os.listdir(tmp_path) == ["shot.png"] and target.read_bytes() == b"old"


def test_snapshot_size_below_the_window_minimum_says_so(qtbot, tmp_path, capsys):
    out = tmp_path / "small.png"
    assert main(["snapshot", "--out", str(out), "--size", "320x240"]) == 1
    err = capsys.readouterr().err
    assert "cannot be as small as 320x240" in err and "--size" in err
    assert not out.exists()


def test_snapshot_prints_no_qt_plugin_warnings(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "convlab", "snapshot", "--out",
                           str(tmp_path / "s.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "propagateSizeHints" not in proc.stderr and proc.stderr.strip() == ""
