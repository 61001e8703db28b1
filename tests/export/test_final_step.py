"""The final step under SIGKILL and under a second export racing it (issue 20, cases 6 and 7).

SIGKILL cannot be caught, so these tests kill a real child process at every named point of the
final step (:func:`convlab.export.transaction.checkpoint`), with and without an atomic exchange
of folders, into a new folder and over an earlier export that sits beside the user's own files.
After each kill the folder must hold the old export or the new one (nothing in between), and
the next export must clear every leftover. Two exports started at once into one folder must make
their final steps one after the other and leave a manifest that lists exactly the files there.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from convlab.export.maps import export_maps

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and links")

CHILD = textwrap.dedent("""
    import json, os, signal, sys, time
    import numpy as np
    from convlab.export import transaction
    from convlab.export.maps import export_maps

    out, stop_at, mode, run = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    log = sys.argv[5] if len(sys.argv) > 5 else None
    pause = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    seen = []

    def checkpoint(name):
        seen.append(name)
        if log:  # one line per point, appended: the order of two processes' points
            with open(log, "a") as fh:
                fh.write(f"{run} {name}\\n")
        if name == "planned" and log and not pause:
            time.sleep(0.2)  # hold the lock a while, so that the other export has to wait
        time.sleep(pause)  # stretches the final step, so that a kill from outside lands in it
        if len(seen) == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)
    transaction.checkpoint = checkpoint
    if mode == "fallback":  # a file system without an atomic exchange of folders
        def unsupported(a, b):
            raise transaction.exchange.Unsupported(22, "no exchange here")
        transaction.exchange.exchange = unsupported
    rng = np.random.default_rng(run)
    layers = {"conv": rng.standard_normal((run + 1, 4, 4)).astype(np.float32)}
    if run % 2:
        layers["pool"] = rng.standard_normal((2, 2, 2)).astype(np.float32)
    if log and not pause:
        while not os.path.exists(log + ".go"):
            time.sleep(0.005)
    export_maps(out, layers, settings={"run": run})
    print(json.dumps(seen))
""")


def child(out, stop_at=0, mode="exchange", run=2, log=None, wait=True, pause=0.0):
    argv = [sys.executable, "-c", CHILD, str(out), str(stop_at), mode, str(run)]
    argv += [str(log), str(pause)] if log else []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    stdout, stderr = proc.communicate(timeout=120)
    return proc.returncode, stdout, stderr


def files(root):
    """Every entry under root -> bytes (files), "dir" or the link's text; links not followed."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                with open(path, "rb") as fh:
                    found[rel] = fh.read()
    return found


def ours(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith(".convlab"))


def complete(out, run, foreign) -> bool:
    """True when ``out`` holds export ``run`` whole: its manifest, every file it lists with the
    bytes it lists, and nothing else but the user's own files."""
    manifest = json.loads((out / "manifest.json").read_text())
    if manifest["settings"]["run"] != run:
        return False
    sums = manifest["checksums"]
    assert sorted(sums) == sorted(f["path"] for f in manifest["files"])
    for rel, want in sums.items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == want["sha256"], rel
    visible = {rel for rel, what in files(out).items() if what != "dir" and not rel.startswith(".")}
    assert visible == set(sums) | {"manifest.json"} | set(foreign), visible ^ set(sums)
    return True


def earlier_export(out):
    """An export (run 1) beside the user's own files; returns those files."""
    export_maps(out, {"conv": np.ones((2, 4, 4), np.float32), "relu": np.zeros((2, 4, 4), np.float32)},
                settings={"run": 1})
    (out / "notes.txt").write_text("mine")
    (out / "conv" / "drawing.png").write_bytes(b"mine too")
    os.symlink("notes.txt", out / "link")
    return {"notes.txt": b"mine", "conv/drawing.png": b"mine too", "link": "link:notes.txt"}


@pytest.mark.parametrize("mode", ["exchange", "fallback"])
@pytest.mark.parametrize("over", ["new folder", "earlier export"])
def test_sigkill_at_every_point_of_the_final_step(tmp_path, mode, over):
    def target(name):
        out = tmp_path / name / "out"
        out.parent.mkdir()
        return out, earlier_export(out) if over == "earlier export" else {}

    rc, stdout, stderr = child(target("probe")[0], mode=mode)
    assert rc == 0, stderr
    points = json.loads(stdout.strip().splitlines()[-1])
    hit = set()
    for stop_at in range(1, len(points) + 1):
        out, foreign = target(f"kill{stop_at}")
        before = files(out) if out.exists() else None
        rc, stdout, stderr = child(out, stop_at, mode)
        assert rc == -signal.SIGKILL, stderr
        if not out.exists() and before is not None:
            assert mode == "fallback" and points[stop_at - 1] == "set-aside"
            hit.add("missing")  # between the fallback's two renames: the next export puts it back
        elif (files(out) if out.exists() else None) == before:
            hit.add("old")
        else:
            assert complete(out, 2, foreign)
            hit.add("new")
        export_maps(out, {"conv": np.full((1, 2, 2), 3, np.float32)}, settings={"run": 3})
        assert complete(out, 3, foreign) and ours(out.parent) == [] and ours(out) == []
        assert {rel: files(out)[rel] for rel in foreign} == foreign  # never lost, never changed
    assert hit >= {"old", "new"}, hit


@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_sigkill_from_outside_at_random_moments_of_the_final_step(tmp_path, mode):
    """Kills that land between the named points too (halfway through the links or the
    removals), repeated until both outcomes have been seen."""
    rng = np.random.default_rng(20)
    outcomes, points = set(), set()
    for attempt in range(40):
        out, log = tmp_path / f"k{attempt}" / "out", tmp_path / f"log{attempt}"
        out.parent.mkdir()
        log.write_text("")
        foreign = earlier_export(out)
        for i in range(40):  # more of the user's files: more steps to land between
            (out / f"mine{i}.txt").write_text(str(i))
            foreign[f"mine{i}.txt"] = str(i).encode()
        before = files(out)
        proc = child(out, mode=mode, log=log, wait=False, pause=0.02)
        while "locked" not in log.read_text() and proc.poll() is None:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.2))  # somewhere in the final step (or just after it)
        proc.kill()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (-signal.SIGKILL, 0), err  # killed, or done just before
        reached = log.read_text().split()
        points.add(reached[-1] if reached else "")
        if out.exists() and files(out) == before:
            outcomes.add("old")
        elif out.exists():
            assert complete(out, 2, foreign)
            outcomes.add("new")
        else:
            assert mode == "fallback" and reached[-1] == "set-aside", reached
        export_maps(out, {"conv": np.full((1, 2, 2), 3, np.float32)}, settings={"run": 3})
        assert complete(out, 3, foreign) and ours(out.parent) == [] and ours(out) == []
        if attempt >= 5 and outcomes == {"old", "new"}:
            break
    assert outcomes == {"old", "new"}, (outcomes, points)


def test_two_exports_at_once_take_turns_and_leave_one_consistent_folder(tmp_path):
    for round_ in range(4):
        out, log = tmp_path / f"out{round_}", tmp_path / f"log{round_}"
        log.write_text("")
        if round_ % 2:
            earlier_export(out)
        first, second = child(out, run=5, log=log, wait=False), child(out, run=6, log=log, wait=False)
        time.sleep(0.5)  # both have imported and wait at the starting line
        (tmp_path / f"log{round_}.go").write_text("go")
        for proc in (first, second):
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        points = [line.split() for line in log.read_text().splitlines()]
        order = [run for run, _ in points]
        assert order == sorted(order, key=order.index)  # all of one, then all of the other
        last = int(order[-1])
        foreign = {"notes.txt", "conv/drawing.png", "link"} if round_ % 2 else set()
        assert complete(out, last, foreign)
        assert ours(tmp_path) == [] and ours(out) == []
