"""load_image refuses what is not a regular file before opening it, and judges the header first.

Each case runs in a fresh interpreter with a time limit, so a hang fails the test instead of
stalling the suite, and its peak resident memory measures what the refusal cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOAD = textwrap.dedent("""
    import json, resource, sys, time
    try:  # helper A moves convlab.imaging to convlab.pipelines.images (issue 8)
        from convlab.pipelines.images import ImageLoadError, load_image
    except ImportError:
        from convlab.imaging import ImageLoadError, load_image
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    try:
        shape = list(load_image(sys.argv[1]).shape)
        outcome = {"error": None, "message": "", "shape": shape}
    except BaseException as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc),
                   "image_load_error": isinstance(exc, ImageLoadError)}
    outcome["seconds"] = time.perf_counter() - start
    outcome["growth"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    print(json.dumps(outcome))
""")
LIMIT_S = 30           # far beyond a refusal (milliseconds); a blocked open never ends
GROWTH_LIMIT = 64 << 20


def load_in_isolation(path) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", LOAD, os.fspath(path)], capture_output=True,
                              text=True, timeout=LIMIT_S, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load_image({path}) did not answer within {LIMIT_S} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def refused(path, words: str) -> dict:
    outcome = load_in_isolation(path)
    assert outcome["error"] == "ImageLoadError" and outcome["image_load_error"], outcome
    assert words in outcome["message"], outcome
    assert outcome["message"].endswith(".") and "\n" not in outcome["message"], outcome
    assert outcome["growth"] < GROWTH_LIMIT, f"peak RSS grew {outcome['growth'] >> 20} MiB"
    return outcome


def test_a_named_pipe_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    refused(fifo, "named pipe, not an image file")


def test_a_device_is_refused(tmp_path):
    refused("/dev/zero", "character device, not an image file")


def test_a_folder_is_refused(tmp_path):
    folder = tmp_path / "photo.png"
    folder.mkdir()
    refused(folder, "is a folder, not an image file")


def test_a_huge_sparse_non_image_is_judged_by_its_header(tmp_path):
    """4 GB (holes, no disk used) that is not an image: refused without reading it whole."""
    path = tmp_path / "huge.png"
    with open(path, "wb") as fh:
        fh.truncate(4 << 30)
    started = time.perf_counter()
    refused(path, "is not an image")
    assert time.perf_counter() - started < LIMIT_S


def test_a_huge_file_with_an_image_signature_is_judged_by_its_header(tmp_path):
    path = tmp_path / "huge.png"
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + bytes(64))   # PNG's signature, then no valid header
        fh.truncate(4 << 30)
    refused(path, str(path))


def test_a_real_image_still_loads(tmp_path):
    import numpy as np

    from convlab.render.png import write_png  # where issue 8's layout put it

    path = tmp_path / "ok.png"
    write_png(path, np.zeros((5, 7, 3), np.uint8))
    outcome = load_in_isolation(path)
    assert outcome["error"] is None and outcome["shape"] == [5, 7, 3], outcome
