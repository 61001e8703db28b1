"""Export touches only what it wrote (issue 20, cases 1-4 and 8): real symbolic links, named
pipes, a user's own manifest.json, forged manifests, names that are not UTF-8 and layer names
that collide with export's own files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from convlab.export import signals, tree
from convlab.export.maps import ExportError, export_maps
from convlab.export.owned import GENERATOR


def layers():
    rng = np.random.default_rng(1)
    return {"conv": rng.standard_normal((3, 4, 5)).astype(np.float32),
            "pool": rng.standard_normal((3, 2, 2)).astype(np.float32)}


def listing(root):
    """Every entry under root (links not followed) -> what it is (bytes, link text or 'dir')."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = "dir"
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as fh:
                    out[rel] = fh.read()
            else:
                out[rel] = stat.S_IFMT(info.st_mode)
    return out


def one_sentence(text: str) -> None:
    assert "\n" not in text and text.endswith(".") and "Errno" not in text, text


def forged_manifest(listed: dict[str, bytes], fmt="convlab-export/1", generator=GENERATOR):
    """A manifest in ConvLab's form that lists ``listed`` (path -> the bytes it claims)."""
    sums = {rel: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for rel, data in listed.items()}
    body = {"format": fmt, "files": [{"path": rel} for rel in listed], "checksums": sums}
    if generator is not None:
        body["generator"] = generator
    return json.dumps(body)


def test_a_named_pipe_as_manifest_is_refused_without_opening_it(tmp_path):
    """Case 1: in a child process with a time limit, so a blocking open fails the test."""
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "manifest.json")
    script = textwrap.dedent(f"""
        import numpy as np
        from convlab.export.maps import ExportError, export_maps
        try:
            export_maps({str(out)!r}, {{"conv": np.ones((2, 3, 3), np.float32)}}, settings={{}})
        except ExportError as exc:
            print(exc)
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = done.stdout.strip()
    one_sentence(said)
    assert "manifest.json there is a named pipe" in said and "move it away" in said
    assert stat.S_ISFIFO(os.lstat(out / "manifest.json").st_mode)
    assert os.listdir(out) == ["manifest.json"] and sorted(os.listdir(tmp_path)) == ["out"]


def test_nothing_is_opened_while_signals_are_held(tmp_path, monkeypatch):
    """Case 1's rule: while SIGINT/SIGTERM are deferred only calls that cannot wait run."""
    out = tmp_path / "out"
    export_maps(out, layers(), settings={"run": 1})
    (out / "notes.txt").write_text("mine")
    held, opened = [], []
    real_hold, real_release, real_open = signals.SignalHold.hold, signals.SignalHold.release, os.open

    def hold(self):
        held.append(1)
        return real_hold(self)

    def release(self):
        held.clear()
        return real_release(self)

    def watched_open(path, flags, *a, **k):
        if held and not flags & os.O_DIRECTORY:
            opened.append(path)
        return real_open(path, flags, *a, **k)
    monkeypatch.setattr(signals.SignalHold, "hold", hold)
    monkeypatch.setattr(signals.SignalHold, "release", release)
    monkeypatch.setattr(os, "open", watched_open)
    export_maps(out, {"conv": np.zeros((2, 3, 3), np.float32)}, settings={"run": 2})
    monkeypatch.undo()
    assert opened == []
    assert (out / "notes.txt").read_text() == "mine" and not (out / "pool").exists()


@pytest.mark.parametrize("form", ["convlab", "older", "outside"])
def test_a_manifest_never_leads_export_through_a_link(tmp_path, form):
    """Case 2: ``sub`` links to ``../victim``; a manifest lists ``sub/precious.txt``."""
    victim, out = tmp_path / "victim", tmp_path / "out"
    victim.mkdir()
    out.mkdir()
    (victim / "precious.txt").write_bytes(b"precious")
    os.symlink("../victim", out / "sub")
    rel = "../victim/precious.txt" if form == "outside" else "sub/precious.txt"
    (out / "manifest.json").write_text(forged_manifest(
        {rel: b"precious"}, generator=None if form == "older" else GENERATOR))
    before_victim = listing(victim)
    if form == "older":  # not provably ConvLab's: a manifest in the way, refused
        with pytest.raises(ExportError, match="manifest of an older ConvLab, which cannot prove") \
                as info:
            export_maps(out, layers(), settings={})
        one_sentence(str(info.value))
    else:
        export_maps(out, layers(), settings={})
        assert os.readlink(out / "sub") == "../victim"  # the link is kept, as a link
        assert json.loads((out / "manifest.json").read_text())["generator"] == "convlab"
    assert listing(victim) == before_victim


def test_a_linked_layer_folder_is_refused(tmp_path):
    """Case 3: ``conv/`` links to another folder that holds a ``map_000.png``."""
    other, out = tmp_path / "other", tmp_path / "out"
    other.mkdir()
    out.mkdir()
    (other / "map_000.png").write_bytes(b"someone else's")
    os.symlink(other, out / "conv")
    before = listing(tmp_path)
    with pytest.raises(ExportError) as info:
        export_maps(out, layers(), settings={})
    said = str(info.value)
    one_sentence(said)
    assert "conv there is a symbolic link, which ConvLab never follows" in said
    assert listing(tmp_path) == before


def test_a_target_that_is_a_link_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    with pytest.raises(ExportError, match="it is a symbolic link, which ConvLab never follows"):
        export_maps(tmp_path / "link", layers(), settings={})
    assert os.listdir(real) == [] and os.path.islink(tmp_path / "link")


@pytest.mark.parametrize("name, content", [("manifest.json", b'{"mine": true}'),
                                           ("conv_grid.png", b"my own picture"),
                                           ("conv/map_001.png", b"my own map")])
def test_a_users_own_file_in_the_way_is_never_replaced(tmp_path, name, content):
    """Case 4: a user's own manifest.json (or any file of theirs where export writes)."""
    out = tmp_path / "out"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(content)
    before = listing(tmp_path)
    with pytest.raises(ExportError) as info:
        export_maps(out, layers(), settings={})
    one_sentence(str(info.value))
    assert f"{name} there is" in str(info.value) and "did not write" in str(info.value)
    assert listing(tmp_path) == before


def test_a_changed_file_of_an_earlier_export_is_kept_and_refused(tmp_path):
    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    (out / "conv" / "map_001.png").write_bytes(b"edited by hand")
    before = listing(tmp_path)
    with pytest.raises(ExportError, match="changed since"):
        export_maps(out, layers(), settings={})
    assert listing(tmp_path) == before
    (out / "pool" / "map_000.png").write_bytes(b"edited too")  # not written again: kept
    export_maps(out, {"conv": np.zeros((1, 2, 2), np.float32)}, settings={}, grid=False)
    assert (out / "pool" / "map_000.png").read_bytes() == b"edited too"
    assert not (out / "pool" / "map_001.png").exists() and not (out / "pool_grid.png").exists()
    assert (out / "conv" / "map_001.png").read_bytes() == b"edited by hand"


def test_the_users_own_files_folders_and_links_are_kept(tmp_path):
    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    (out / "photos" / "empty").mkdir(parents=True)
    (out / "photos" / "cat.jpg").write_bytes(b"cat")
    os.symlink("/etc/passwd", out / "photos" / "link")
    os.mkfifo(out / "pipe")
    (out / "photos").chmod(0o750)
    ino = os.lstat(out / "photos" / "cat.jpg").st_ino
    export_maps(out, {"conv": np.zeros((1, 2, 2), np.float32)}, settings={})
    assert (out / "photos" / "cat.jpg").read_bytes() == b"cat"
    assert os.lstat(out / "photos" / "cat.jpg").st_ino == ino  # the same file, not a copy
    assert os.readlink(out / "photos" / "link") == "/etc/passwd"
    assert (out / "photos" / "empty").is_dir() and stat.S_ISFIFO(os.lstat(out / "pipe").st_mode)
    assert stat.S_IMODE(os.lstat(out / "photos").st_mode) == 0o750
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_name_that_is_not_utf8_is_exported(tmp_path):
    """Case 8: the photo's name in the settings, the PNG text chunks and the manifest."""
    from PIL import Image

    path = os.fsdecode(b"/photos/ph\xffoto.png")
    out = tmp_path / os.fsdecode(b"maps\xfe")
    export_maps(out, layers(), settings={"image": {"path": path}})
    manifest = json.loads((out / "manifest.json").read_bytes().decode("utf-8"))
    assert manifest["settings"]["image"]["path"] == "/photos/ph\\xffoto.png"
    with Image.open(out / "conv_grid.png") as im:
        assert json.loads(im.text["convlab:settings"])["image"]["path"] == "/photos/ph\\xffoto.png"


def test_layer_names_never_collide_with_export_files(tmp_path):
    """Case 8: layers called ``manifest.json``, ``a`` and ``a_grid.png``, ``b.npy`` and ``b``."""
    one = np.ones((2, 2, 2), np.float32)
    names = ["manifest.json", "a", "a_grid.png", "b.npy", "b", "A"]
    result = export_maps(tmp_path / "out", {n: one * i for i, n in enumerate(names)},
                         settings={}, npy=True)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    folders = [L["folder"] for L in manifest["layers"]]
    written = [f.lower() for f in result.files]
    assert len(set(written)) == len(written) and len(set(map(str.lower, folders))) == len(folders)
    assert [L["name"] for L in manifest["layers"]] == names
    for L in manifest["layers"]:
        assert np.load(tmp_path / "out" / L["npy"]).max() == names.index(L["name"])


def test_the_users_files_beside_an_export_are_bounded(tmp_path, monkeypatch):
    import resource

    out = tmp_path / "out"
    for i in range(300):
        (out / f"d{i}").mkdir(parents=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # fewer than the folders
    try:
        export_maps(out, layers(), settings={})  # never a descriptor per folder at once
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len([p for p in out.iterdir() if p.name.startswith("d")]) == 300
    monkeypatch.setattr(tree, "MAX_ENTRIES", 200)
    before = listing(tmp_path)
    with pytest.raises(ExportError, match="more than 200 files and folders") as info:
        export_maps(out, layers(), settings={})
    one_sentence(str(info.value))
    assert listing(tmp_path) == before
