"""Export touches only what it wrote, continued (review of issue 20): folders whose names merely
look like ConvLab's, the final step's names resolved through the descriptors it checked, and
manifests that are small on disk but large in memory."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from convlab.export.maps import export_maps


def layers():
    rng = np.random.default_rng(1)
    return {"conv": rng.standard_normal((3, 4, 5)).astype(np.float32)}


def test_a_users_folder_named_like_old_staging_is_kept(tmp_path):
    """A user's own hidden folder whose name matches an older ConvLab's staging pattern
    (``.convlab-export-<word>``), untouched for over an hour, is the user's: its files stay."""
    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    for name in (".convlab-export-notes", ".convlab-export-999999999-backup"):
        mine = out / name
        mine.mkdir()
        (mine / "thesis.txt").write_text("three years of work")
        old = time.time() - 2 * 3600
        os.utime(mine, (old, old))
    export_maps(out, layers(), settings={})
    for name in (".convlab-export-notes", ".convlab-export-999999999-backup"):
        assert (out / name / "thesis.txt").read_text() == "three years of work"


def _swap_parent_for_link_at(point, parent, decoy, monkeypatch):
    """At the final step's ``point``, move ``parent`` away and leave a symbolic link to
    ``decoy`` in its place; the decoy holds folders with the export's own names."""
    from convlab.export import transaction

    moved = parent.with_name(parent.name + "-real")

    def checkpoint(name):
        if name == point:
            for entry in os.listdir(parent):
                (decoy / entry).mkdir(exist_ok=True)
                (decoy / entry / "decoy.txt").write_text(entry)
            os.rename(parent, moved)
            os.symlink(decoy, parent)
    monkeypatch.setattr(transaction, "checkpoint", checkpoint)
    return moved


def test_the_swap_uses_the_folder_it_checked_not_its_path(tmp_path, monkeypatch):
    """The final step renames by the parent's descriptor: a parent folder swapped for a link
    after the checks never leads the swap (or the clean-up after it) into another folder."""
    parent, decoy = tmp_path / "p", tmp_path / "decoy"
    parent.mkdir()
    decoy.mkdir()
    export_maps(parent / "out", layers(), settings={})
    moved = _swap_parent_for_link_at("sealed", parent, decoy, monkeypatch)
    export_maps(parent / "out", layers(), settings={"second": True})
    for entry in os.listdir(decoy):  # the decoy as it was made
        assert os.listdir(decoy / entry) == ["decoy.txt"], entry
        assert (decoy / entry / "decoy.txt").read_text() == entry  # not swapped
    assert "second" in (moved / "out" / "manifest.json").read_text()
    assert (moved / "out" / "conv_grid.png").is_file()


def test_a_manifest_small_on_disk_but_huge_parsed_is_never_parsed(tmp_path):
    """Bounded in bytes is not bounded in memory: 8 MB of ``{},`` parse to 200 MB of Python
    objects. Such a manifest is judged (not ConvLab's) without being parsed."""
    import tracemalloc

    from convlab.export.owned import MANIFEST, read_manifest

    out = tmp_path / "out"
    out.mkdir()
    body = (b'{"format": "convlab-export/1", "generator": "convlab", "checksums": {}, "x": ['
            + b"{}," * (8 * 2**20 // 3) + b"{}]}")
    (out / MANIFEST).write_bytes(body)
    fd = os.open(out, os.O_RDONLY)
    try:
        tracemalloc.start()
        manifest = read_manifest(fd, os.lstat(out / MANIFEST))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        os.close(fd)
    assert manifest.state == "foreign" and "more entries" in manifest.what
    assert peak < 4 * len(body), f"{peak / 2**20:.0f} MB to judge an {len(body) / 2**20:.0f} MB file"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a folder to another user takes root")
def test_the_target_and_the_users_folders_keep_their_owners(tmp_path):
    """``sudo convlab export --out /home/bob/maps``: the folders made again in the new export
    (the target itself and bob's own subfolders) stay bob's, or bob could no longer write in
    his own folders."""
    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    (out / "mine" / "deeper").mkdir(parents=True)
    (out / "mine" / "deeper" / "notes.txt").write_text("bob's")
    for folder in (out, out / "mine", out / "mine" / "deeper"):
        os.chown(folder, 4321, 4322)
    export_maps(out, layers(), settings={})
    for folder in (out, out / "mine", out / "mine" / "deeper"):
        info = os.lstat(folder)
        assert (info.st_uid, info.st_gid) == (4321, 4322), folder


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "fallback"])
@pytest.mark.parametrize("point", ["planned", "carried", "sealed"])
def test_a_file_saved_into_the_target_during_the_final_step_stays_in_it(tmp_path, monkeypatch,
                                                                        point, fallback):
    """A file the user saves into the target after the plan was made (their editor, a download)
    is in neither the plan nor the new folder; it must not vanish into a hidden leftover."""
    from convlab.export import transaction

    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    (out / "mine").mkdir()

    def checkpoint(name):
        if name == point:
            (out / "late.txt").write_text("saved meanwhile")
            (out / "mine" / "later.txt").write_text("saved meanwhile too")
    monkeypatch.setattr(transaction, "checkpoint", checkpoint)
    if fallback:  # a file system without an atomic exchange: the old folder ends inside out
        def unsupported(*_names):
            raise transaction.exchange.Unsupported(22, "no exchange here")
        monkeypatch.setattr(transaction.exchange, "exchange", unsupported)
    export_maps(out, layers(), settings={})
    assert (out / "late.txt").read_text() == "saved meanwhile"
    assert (out / "mine" / "later.txt").read_text() == "saved meanwhile too"
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert not [n for n in os.listdir(out) if n.startswith(".")]


def test_a_folder_of_many_entries_is_refused_before_it_is_listed_whole(tmp_path, monkeypatch):
    """The entry budget is checked while a folder is listed, not after: one folder of millions
    of entries must not be read (and sorted) whole before the count is compared."""
    from convlab.export import tree
    from convlab.export.maps import ExportError

    out = tmp_path / "out"
    (out / "many").mkdir(parents=True)
    for i in range(400):
        (out / "many" / f"f{i}").touch()
    monkeypatch.setattr(tree, "MAX_ENTRIES", 50)
    real_scandir, listed = os.scandir, []

    class Counting:
        def __init__(self, it):
            self.it = it

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.it.__exit__(*exc)

        def __iter__(self):
            for entry in self.it:
                if entry.name[1:].isdigit():  # os is shared: count only the folder's own
                    listed.append(entry.name)
                yield entry

    monkeypatch.setattr(tree.os, "scandir", lambda path: Counting(real_scandir(path)))
    with pytest.raises(ExportError, match="more than 50 files and folders"):
        export_maps(out, layers(), settings={})
    assert len(listed) <= 52, f"{len(listed)} entries listed to refuse at 50"


@pytest.mark.parametrize("inside", ["", "mine"])
def test_the_current_folder_or_one_around_it_is_refused(tmp_path, monkeypatch, inside):
    """``--out .``: the swap would leave the process (and the user's shell) in the old folder,
    removed, where ``ls`` shows nothing and the user's files seem gone; refused in one
    sentence, nothing changed."""
    from convlab.export.maps import ExportError

    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    (out / "mine").mkdir()
    (out / "mine" / "notes.txt").write_text("mine")
    monkeypatch.chdir(out / inside)
    before = sorted(os.listdir(out))
    with pytest.raises(ExportError, match="current folder") as info:
        export_maps("." if not inside else "..", layers(), settings={})
    assert "\n" not in str(info.value)
    assert os.getcwd() == str(out / inside) and sorted(os.listdir(".." if inside else ".")) == before


class _Killed(Exception):
    pass


@pytest.mark.parametrize("name", ["maps", ".maps"])
def test_a_killed_exports_old_folder_is_swept_for_a_hidden_target_too(tmp_path, monkeypatch,
                                                                      name):
    """The old folder left by an export stopped right after the swap holds second names of the
    user's files; the next export matches it to its target by the name's hash, which skipped
    every hidden name, so a ``.maps`` target's leftovers were kept for ever."""
    import re

    from convlab.export import transaction

    out = tmp_path / name
    export_maps(out, layers(), settings={})
    (out / "notes.txt").write_text("mine")

    def checkpoint(point):
        if point == "exchanged":
            raise _Killed  # as if killed here: the old folder stays beside the new one
    monkeypatch.setattr(transaction, "checkpoint", checkpoint)
    with pytest.raises(Exception, match="_Killed"):
        export_maps(out, layers(), settings={})
    monkeypatch.undo()
    [left] = [n for n in os.listdir(tmp_path) if n.startswith(".convlab-export-")]
    dead = re.sub(r"-\d+-([0-9a-f]{8})$", r"-999999999-\1", left)  # its process is gone
    os.rename(tmp_path / left, tmp_path / dead)
    export_maps(out, layers(), settings={})
    assert sorted(os.listdir(tmp_path)) == [name]
    assert (out / "notes.txt").read_text() == "mine"


def test_a_parent_swapped_while_the_export_is_built_is_refused(tmp_path):
    """The parent folder replaced by a link to another folder (holding folders of the export's
    own names) between building and committing: the commit works only in the folder whose
    staging folder it made, so it refuses; the other folder is left as it was."""
    from convlab.export.plan import ExportRefused
    from convlab.export.transaction import Transaction

    parent, decoy = tmp_path / "p", tmp_path / "decoy"
    (parent / "out").mkdir(parents=True)
    decoy.mkdir()
    with pytest.raises(ExportRefused, match="moved"):
        with Transaction(parent / "out") as tx:
            (tx.staging / "a.png").write_bytes(b"new")
            for i, entry in enumerate(os.listdir(parent)):
                (decoy / entry).mkdir()
                (decoy / entry / f"decoy{i}.txt").write_text(entry)
            os.rename(parent, tmp_path / "p-real")
            os.symlink(decoy, parent)
            tx.commit(["a.png"])
    for entry in os.listdir(decoy):
        [only] = os.listdir(decoy / entry)
        assert (decoy / entry / only).read_text() == entry


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="process start times from /proc")
def test_a_staging_folder_of_a_live_export_over_an_hour_old_is_left_alone(tmp_path, monkeypatch):
    """The next export sweeps leftovers; one whose process still runs (started before the
    folder was made) is live, not stale, even when it is hours old."""
    import subprocess
    import sys

    from convlab.export import leftovers

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        name = f".convlab-export-{leftovers.tag('maps')}-{child.pid}-0123abcd"
        (tmp_path / name / "conv1").mkdir(parents=True)
        (tmp_path / name / "conv1" / "map-000.png").write_bytes(b"being written")
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 5 * 3600)
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            removed, live = leftovers.sweep(fd, "maps")
        finally:
            os.close(fd)
        assert (removed, live) == ([], [name])
        assert (tmp_path / name / "conv1" / "map-000.png").read_bytes() == b"being written"
    finally:
        child.kill()
        child.wait()
