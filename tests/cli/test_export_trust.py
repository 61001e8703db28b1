"""``convlab export`` with a photo whose name is not UTF-8, and into a folder holding a file of
someone else's where it would write (issue 20, cases 4 and 8): one line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from convlab.pipelines.samples import default_sample

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")


def _export(cwd, *argv: bytes) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # strict UTF-8 output, as in a UTF-8 locale
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"convlab", b"export", *argv,
                           b"--longest", b"64", b"--layers", b"pool"],
                          capture_output=True, cwd=cwd, env=env, timeout=120)


def test_a_photo_and_folder_whose_names_are_not_utf8(tmp_path):
    shutil.copy(default_sample(), tmp_path / os.fsdecode(b"ph\xffoto.jpg"))
    done = _export(tmp_path, b"ph\xffoto.jpg", b"--out", b"maps\xfe")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr
    assert b"maps\\xfe" in done.stdout  # the odd byte shown, not a codec error
    manifest = json.loads((tmp_path / os.fsdecode(b"maps\xfe") / "manifest.json").read_bytes())
    assert manifest["settings"]["image"]["name"] == "ph\\xffoto.jpg"


def test_a_users_manifest_in_the_folder_is_one_line(tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "manifest.json").write_text('{"mine": true}')
    done = _export(tmp_path, b"--out", b"maps")
    err = done.stderr.decode()
    assert done.returncode == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("convlab export: Cannot export to") and "did not write" in err
    assert (tmp_path / "maps" / "manifest.json").read_text() == '{"mine": true}'
    assert os.listdir(tmp_path / "maps") == ["manifest.json"]
    assert sorted(os.listdir(tmp_path)) == ["maps"]
