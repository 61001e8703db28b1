"""``convlab snapshot`` and the one atomic PNG write (issue 20, cases 5 and 9, and --explain out
of range): a symbolic link is refused, SIGTERM cleans up as Ctrl+C does, and the temporary file
a SIGKILL leaves is removed by the next write to the same path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from convlab.cli import main
from convlab.export.atomic import atomic_path
from convlab.pipelines.guard import PathRefused

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and links")

# Runs `convlab snapshot --out OUT` and sends itself SIGNAL halfway through writing the PNG.
HOOKED = textwrap.dedent("""
    import contextlib, os, signal, sys
    from convlab.cli import main, snapshot

    real = snapshot.atomic_path

    @contextlib.contextmanager
    def halfway(path):
        with real(path) as tmp:
            tmp.write_bytes(b"half a PNG")
            os.kill(os.getpid(), int(sys.argv[2]))
            yield tmp
    snapshot.atomic_path = halfway
    sys.exit(main(["snapshot", "--out", sys.argv[1], "--size", "900x640"]))
""")


def _hooked(out, signum) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", HOOKED, str(out), str(int(signum))],
                          capture_output=True, text=True, timeout=240, env=env)


def _temporaries(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("dangling", [False, True])
def test_snapshot_refuses_an_out_that_is_a_link(tmp_path, capsys, dangling):
    real = tmp_path / "real.png"
    if not dangling:
        real.write_bytes(b"the user's picture")
    os.symlink(real, tmp_path / "link.png")
    assert main(["snapshot", "--out", str(tmp_path / "link.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("convlab snapshot:") and "is a symbolic link" in err and "\n" not in err
    assert os.readlink(tmp_path / "link.png") == str(real)
    assert real.exists() != dangling and (dangling or real.read_bytes() == b"the user's picture")
    with pytest.raises(PathRefused, match="never writes through a link"):
        with atomic_path(tmp_path / "link.png") as tmp:
            tmp.write_bytes(b"x")
    assert sorted(os.listdir(tmp_path)) == sorted(["link.png"] + ([] if dangling else ["real.png"]))


def test_a_write_removes_the_temporaries_of_dead_writers_to_the_same_path(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".shot.png.{dead}-0badf00d.tmp"
    keep = [tmp_path / f".shot.png.{alive}-cafe0001.tmp",    # a live writer's
            tmp_path / f".other.png.{dead}-0badf00d.tmp",    # another path's
            tmp_path / f".shot.png.{dead}-notours.tmp"]      # not the pattern
    for path in [stale, *keep]:
        path.write_bytes(b"x")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    os.symlink(victim, tmp_path / f".shot.png.{dead}-feedface.tmp")  # a link: never removed
    with atomic_path(tmp_path / "shot.png") as tmp:
        tmp.write_bytes(b"new")
    assert not stale.exists() and all(p.exists() for p in keep)
    assert os.path.islink(tmp_path / f".shot.png.{dead}-feedface.tmp") and victim.read_text() == "keep"
    assert (tmp_path / "shot.png").read_bytes() == b"new"


def test_sigterm_while_the_png_is_written_leaves_nothing(tmp_path):
    done = _hooked(tmp_path / "shot.png", signal.SIGTERM)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "left as it was" in done.stderr
    assert os.listdir(tmp_path) == []


def test_the_temporary_file_of_a_killed_snapshot_is_swept_by_the_next(qtbot, tmp_path, capsys):
    done = _hooked(tmp_path / "shot.png", signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    assert len(_temporaries(tmp_path)) == 1  # SIGKILL cannot be caught: it stays, for now
    assert main(["snapshot", "--out", str(tmp_path / "shot.png"), "--size", "900x640"]) == 0
    assert _temporaries(tmp_path) == [] and os.listdir(tmp_path) == ["shot.png"]


def test_an_explained_position_outside_the_stage_is_one_sentence(qtbot, tmp_path, capsys):
    out = tmp_path / "n.png"
    assert main(["snapshot", "--out", str(out), "--explain", "pool:500,0,0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "outside the pool stage" in err and "from 0 to 95" in err
    assert not out.exists() and os.listdir(tmp_path) == []
