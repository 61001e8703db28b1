"""The path guard: regular files only, reads that end, honest output paths, stale staging swept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.pipelines import guard
from convlab.pipelines.guard import PathRefused


class CustomError(ValueError):
    """A caller's own error type, as the image loader's ImageLoadError."""


def answers_within(call, seconds: float = 10.0, unblock: str | None = None):
    """``call()``'s result or exception, which must come within ``seconds`` (never a hang)."""
    result: dict = {}

    def run():
        try:
            result["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        if unblock:  # open the pipe's other end so the stuck thread can finish
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"no answer within {seconds} s")
    return result


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "photo.png"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path):
    path = os.path.join(str(tmp_path), "s.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    yield path
    sock.close()


# ------------------------------------------------------------------ require_regular_file
def test_a_regular_file_gives_its_stat(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"12345")
    assert guard.require_regular_file(path).st_size == 5


def test_a_link_to_a_regular_file_is_a_regular_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    os.symlink(tmp_path / "a.png", tmp_path / "link.png")
    assert guard.require_regular_file(tmp_path / "link.png").st_size == 1


@pytest.mark.parametrize("kind,words", [("fifo", "named pipe"), ("device", "character device"),
                                        ("folder", "folder"), ("socket", "socket"),
                                        ("missing", "does not exist")])
def test_anything_but_a_regular_file_is_refused_in_one_sentence(kind, words, tmp_path, fifo,
                                                                 unix_socket):
    path = {"fifo": fifo, "device": "/dev/null", "folder": tmp_path, "socket": unix_socket,
            "missing": tmp_path / "nothing.png"}[kind]
    outcome = answers_within(lambda: guard.require_regular_file(path, "image"),
                             unblock=str(fifo) if kind == "fifo" else None)
    error = outcome.get("error")
    assert isinstance(error, PathRefused), outcome
    assert words in str(error) and os.fsdecode(path) in str(error)
    assert str(error).endswith(".") and "\n" not in str(error)


def test_the_error_type_is_the_callers_choice(fifo):
    with pytest.raises(CustomError, match="named pipe, not an image file"):
        guard.require_regular_file(fifo, "image", error=CustomError)


def test_a_fifo_is_refused_without_being_opened(fifo):
    """A writer waiting on the pipe would be released by any open; it must stay waiting."""
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write(b'x')"])
    try:
        with pytest.raises(PathRefused):
            guard.require_regular_file(fifo)
        time.sleep(0.3)
        assert writer.poll() is None, "the pipe was opened"
    finally:
        writer.kill()
        writer.wait()


# ------------------------------------------------------------- open_regular / bounded_read
def test_open_regular_refuses_a_fifo_without_blocking(fifo):
    outcome = answers_within(lambda: guard.open_regular(fifo), unblock=str(fifo))
    assert isinstance(outcome.get("error"), PathRefused), outcome


def test_open_regular_judges_what_it_opened_not_the_name(fifo, monkeypatch):
    """A regular file at check time, swapped for a pipe before the open: still refused, no hang."""
    monkeypatch.setattr(guard, "require_regular_file", lambda *a, **k: None)
    outcome = answers_within(lambda: guard.open_regular(fifo, error=CustomError), unblock=str(fifo))
    assert isinstance(outcome.get("error"), CustomError), outcome
    assert "named pipe" in str(outcome["error"])


def test_bounded_read_returns_a_file_that_fits(tmp_path):
    path = tmp_path / "small.bin"
    path.write_bytes(b"abc" * 100)
    assert guard.bounded_read(path, 300) == b"abc" * 100


def test_bounded_read_refuses_a_huge_sparse_file_from_its_size(tmp_path):
    path = tmp_path / "huge.bin"
    with open(path, "wb") as fh:
        fh.truncate(4 << 30)   # 4 GB of holes: instant, no disk used
    outcome = answers_within(lambda: guard.bounded_read(path, 1 << 20, "image"), seconds=5)
    error = outcome.get("error")
    assert isinstance(error, PathRefused) and "4.3 GB" in str(error), outcome


def test_bounded_read_never_reads_past_the_limit_of_an_endless_file(monkeypatch, tmp_path):
    """A regular file whose size says 0 but whose reads never end (as in /proc)."""
    path = tmp_path / "endless"
    path.write_bytes(b"")
    asked = []

    class Endless:
        def __init__(self, fh):
            self.fh = fh

        def fileno(self):
            return self.fh.fileno()

        def read(self, n):
            asked.append(n)
            return b"z" * n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    real = guard.open_regular
    monkeypatch.setattr(guard, "open_regular", lambda *a, **k: Endless(real(*a, **k)))
    with pytest.raises(PathRefused, match="longer than"):
        guard.bounded_read(path, 1000)
    assert asked == [1001]


def test_bounded_read_refuses_dev_zero_and_dev_null():
    for device in ("/dev/zero", "/dev/null"):
        with pytest.raises(PathRefused, match="character device"):
            guard.bounded_read(device, 1 << 20)


# -------------------------------------------------------------------- check_output_path
def test_an_output_path_may_be_a_regular_file_or_a_new_path(tmp_path):
    existing = tmp_path / "old.png"
    existing.write_bytes(b"x")
    assert guard.check_output_path(existing) == str(existing)
    assert guard.check_output_path(tmp_path / "new.png") == str(tmp_path / "new.png")
    deep = tmp_path / "a" / "b" / "c.png"   # folders to create: the CLI makes them
    assert guard.check_output_path(deep) == str(deep)
    os.symlink(existing, tmp_path / "link.png")
    assert guard.check_output_path(tmp_path / "link.png") == str(tmp_path / "link.png")


@pytest.mark.parametrize("kind,words", [("fifo", "named pipe"), ("device", "character device"),
                                        ("folder", "folder"), ("socket", "socket"),
                                        ("link-to-device", "character device"),
                                        ("link-to-fifo", "named pipe"),
                                        ("dangling", "link to nothing")])
def test_an_output_path_that_is_not_a_file_is_refused(kind, words, tmp_path, fifo, unix_socket):
    links = {"link-to-device": "/dev/null", "link-to-fifo": fifo, "dangling": tmp_path / "gone"}
    if kind in links:
        os.symlink(links[kind], tmp_path / "out.png")
    path = {"fifo": fifo, "device": "/dev/null", "folder": tmp_path,
            "socket": unix_socket}.get(kind, tmp_path / "out.png")
    with pytest.raises(PathRefused) as info:
        guard.check_output_path(path, "snapshot")
    message = str(info.value)
    assert words in message and "regular file or a new path" in message, message
    assert os.path.exists("/dev/null") and os.stat("/dev/null").st_size == 0


def test_an_output_path_under_a_file_or_empty_is_refused(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(PathRefused, match="is not a folder"):
        guard.check_output_path(tmp_path / "file" / "out.png")
    for empty in ("", "   ", None):
        with pytest.raises(PathRefused, match="No snapshot path"):
            guard.check_output_path(empty, "snapshot")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_output_path_in_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(PathRefused, match="not writable"):
        guard.check_output_path(folder / "out.png")


def test_an_output_folder_may_be_a_folder_or_new_but_nothing_else(tmp_path, fifo):
    assert guard.check_output_folder(tmp_path) == str(tmp_path)
    assert guard.check_output_folder(tmp_path / "new" / "deeper") == str(tmp_path / "new" / "deeper")
    for bad, words in ((fifo, "named pipe"), ("/dev/null", "character device")):
        with pytest.raises(PathRefused, match=words):
            guard.check_output_folder(bad)


# ----------------------------------------------------------------- staging folders
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid   # reaped: no process has this id now (barring immediate reuse)


def test_staging_folders_are_hidden_and_name_their_process(tmp_path):
    path = guard.make_staging_dir(tmp_path)
    name = os.path.basename(path)
    assert name.startswith(f".convlab-staging-{os.getpid()}-") and os.path.isdir(path)
    assert guard.make_staging_dir(tmp_path) != path


def test_sweep_removes_a_dead_process_staging_and_keeps_a_live_one(tmp_path):
    live = guard.make_staging_dir(tmp_path)
    dead = tmp_path / f".convlab-staging-{dead_pid()}-0badf00d"
    (dead / "conv1").mkdir(parents=True)
    (dead / "conv1" / "map-000.png").write_bytes(b"half an export")
    removed = guard.sweep_stale_staging(tmp_path)
    assert removed == [dead.name]
    assert not dead.exists() and os.path.isdir(live)


def test_sweep_removes_an_old_staging_even_if_its_pid_lives(tmp_path):
    old = guard.make_staging_dir(tmp_path)   # this very process: alive
    long_ago = time.time() - 2 * guard.STALE_AFTER_S
    os.utime(old, (long_ago, long_ago))
    assert guard.sweep_stale_staging(tmp_path) == [os.path.basename(old)]


def test_sweep_judges_a_name_without_a_pid_by_age(tmp_path):
    young = tmp_path / ".convlab-staging-k2j_x9q"   # tempfile.mkdtemp's kind of name
    old = tmp_path / ".convlab-staging-a8b_c7d"
    young.mkdir()
    old.mkdir()
    os.utime(old, (0, 0))
    assert guard.sweep_stale_staging(tmp_path) == [old.name]
    assert young.exists()


def test_sweep_touches_nothing_that_is_not_its_own(tmp_path):
    victim = tmp_path / "elsewhere"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    pid = dead_pid()
    os.symlink(victim, tmp_path / f".convlab-staging-{pid}-deadbeef")   # a link: never followed
    (tmp_path / f".convlab-staging-{pid}-cafe0001.txt").write_text("a file, not a folder")
    for name in (f"convlab-staging-{pid}-abcd", f".convlab-export-{pid}-abcd", "photos",
                 f".convlab-staging-{pid}-ab.cd", f".convlab-staging-x{pid}-ab"):
        (tmp_path / name).mkdir()
    before = sorted(os.listdir(tmp_path))
    assert guard.sweep_stale_staging(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == before
    assert (victim / "keep.txt").read_text() == "mine"


def test_sweep_of_a_missing_folder_does_nothing(tmp_path):
    assert guard.sweep_stale_staging(tmp_path / "absent") == []


def own_staging_name(name: str) -> bool:
    """The documented forms, checked without a regular expression: <prefix>-[<pid>-]<token>."""
    head = guard.STAGING_PREFIX + "-"
    if not name.startswith(head):
        return False
    parts = name[len(head):].split("-")
    word = lambda s: bool(s) and all(c.isascii() and (c.isalnum() or c == "_") for c in s)  # noqa: E731
    return (len(parts) == 1 and word(parts[0])) or (len(parts) == 2 and parts[0].isdigit()
                                                      and parts[0].isascii() and word(parts[1]))


@settings(max_examples=40, deadline=None)
@given(names=st.sets(st.text(alphabet=st.sampled_from(".-_abcXYZ0123456789"), min_size=1,
                             max_size=12).map(lambda s: guard.STAGING_PREFIX[:-3] + s), max_size=6)
       | st.sets(st.text(alphabet=st.sampled_from(".-_aZ09"), min_size=1, max_size=20), max_size=6))
def test_sweep_removes_exactly_its_own_old_folders(names, tmp_path_factory):
    """Every folder is ancient, so each one in ConvLab's own form goes and every other stays."""
    folder = tmp_path_factory.mktemp("sweep")
    names = {n for n in names if n not in (".", "..")}
    for name in names:
        (folder / name).mkdir()
        os.utime(folder / name, (0, 0))
    removed = guard.sweep_stale_staging(folder)
    assert sorted(removed) == sorted(n for n in names if own_staging_name(n))
    assert sorted(os.listdir(folder)) == sorted(n for n in names if not own_staging_name(n))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times from /proc")
def test_an_export_running_for_hours_keeps_its_staging_folder(tmp_path):
    """Its process started before the folder was made: alive and the owner, however old."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        folder = tmp_path / f".convlab-staging-{child.pid}-longrun1"
        folder.mkdir()
        mtime = folder.stat().st_mtime
        later = time.time() + 3 * guard.STALE_AFTER_S
        assert not guard.left_by_gone_process(child.pid, mtime, now=later)
        assert guard.sweep_stale_staging(tmp_path, max_age_s=0.0) == []
        assert folder.exists()
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times from /proc")
def test_a_folder_whose_pid_now_names_a_later_process_is_stale(tmp_path):
    """A pid is reused: a process that started after the folder was last changed cannot have
    made it."""
    folder = tmp_path / ".convlab-staging-1-reused01"
    folder.mkdir()
    long_ago = time.time() - 600
    os.utime(folder, (long_ago, long_ago))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert guard.left_by_gone_process(child.pid, long_ago, now=long_ago + 1)
        mine = tmp_path / f".convlab-staging-{child.pid}-reused02"
        mine.mkdir()
        os.utime(mine, (long_ago, long_ago))
        assert guard.sweep_stale_staging(tmp_path) == [mine.name]
    finally:
        child.kill()
        child.wait()
