"""Hostile weight files: impossible values, size lies and special files, refused with a sentence.

Size lies are run in a fresh interpreter, so that its peak resident memory
(``resource.getrusage(...).ru_maxrss``) measures what reading the file cost and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab.engine import layers as L
from convlab.engine.nets import Network
from convlab.engine.nets.weights import read_npz

from .helpers import all_params, assert_params_equal, snapshot

GIB = 1 << 30
ISOLATED_GROWTH_LIMIT = 64 << 20  # bytes a refused hostile file may add to the peak resident set
TINY = textwrap.dedent("""
    import numpy as np
    from convlab.engine import layers as L
    from convlab.engine.nets import Network

    def tiny_net():
        return Network("tiny", [L.Conv2D("conv1", 3, 4, 3, seed=0, xp=np), L.BatchNorm("bn1", 4),
                                L.Linear("fc", 16, 10, seed=1, xp=np)], insize=8)
""")
exec(TINY)  # defines tiny_net() here exactly as in the isolated interpreter  # noqa: S102


def tiny_arrays(seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {k: rng.standard_normal(v.shape).astype(np.float32)
              for k, v in all_params(tiny_net()).items()}
    arrays["bn1/avg_var"] = np.abs(arrays["bn1/avg_var"]) + 0.5
    return arrays


def write_npz(path, arrays: dict) -> str:
    np.savez(path, **arrays)
    return os.fspath(path)


def refused(path, *, naming: str) -> str:
    """Load ``path`` into a tiny network: a ValueError naming ``naming``, the network unchanged."""
    net = tiny_net()
    before = snapshot(net)
    with pytest.raises(ValueError) as info:
        net.load_npz(path)
    assert naming in str(info.value), f"the message does not name {naming!r}: {info.value}"
    assert_params_equal(net, before)
    return str(info.value)


# ------------------------------------------------------------------ impossible values
@pytest.mark.parametrize("key,value", [("conv1/W", np.nan), ("fc/b", np.inf),
                                       ("bn1/gamma", -np.inf), ("bn1/avg_mean", np.nan)])
def test_non_finite_values_are_refused_naming_the_key(key, value, tmp_path):
    arrays = tiny_arrays()
    arrays[key].flat[1] = value
    message = refused(write_npz(tmp_path / "w.npz", arrays), naming=key)
    assert "NaN or infinite" in message


def test_non_finite_float64_is_refused_as_non_finite(tmp_path):
    arrays = tiny_arrays()
    arrays["fc/W"] = arrays["fc/W"].astype(np.float64)
    arrays["fc/W"][0, 0] = np.nan
    assert "NaN or infinite" in refused(write_npz(tmp_path / "w.npz", arrays), naming="fc/W")


def test_negative_batch_norm_variance_is_refused_naming_the_key(tmp_path):
    arrays = tiny_arrays()
    arrays["bn1/avg_var"][2] = -0.25
    message = refused(write_npz(tmp_path / "w.npz", arrays), naming="bn1/avg_var")
    assert "negative variance" in message


def test_zero_variance_and_negative_gamma_are_legal(tmp_path):
    arrays = tiny_arrays()
    arrays["bn1/avg_var"][:] = 0.0          # eps keeps the division finite
    arrays["bn1/gamma"][:] = -1.0           # a sign flip is a valid scale
    net = tiny_net()
    net.load_npz(write_npz(tmp_path / "w.npz", arrays))
    assert_params_equal(net, arrays)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(tiny_arrays())), index=st.integers(0, 10_000),
       value=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_any_single_non_finite_value_anywhere_is_refused(key, index, value, tmp_path):
    arrays = tiny_arrays()
    arrays[key].flat[index % arrays[key].size] = value
    refused(write_npz(tmp_path / "w.npz", arrays), naming=key)


# ---------------------------------------------------------------- headers that lie
def header_bytes(dtype, shape, version=(1, 0)) -> bytes:
    import io

    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buf, header) if version == (1, 0) else \
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


def write_members(path, members: dict[str, tuple[bytes, int]]) -> str:
    """A deflated .npz whose member ``key`` is ``header`` followed by ``zeros`` zero bytes."""
    zero_chunk = bytes(1 << 22)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, (header, zeros) in members.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as fh:
                fh.write(header)
                while zeros > 0:
                    fh.write(zero_chunk[:zeros])
                    zeros -= len(zero_chunk)
    return os.fspath(path)


def honest_members(dtype=np.float32) -> dict[str, tuple[bytes, int]]:
    """Every member of the tiny network: its true header and all-zero data."""
    out = {}
    for key, arr in all_params(tiny_net()).items():
        out[key] = (header_bytes(dtype, arr.shape), arr.size * np.dtype(dtype).itemsize)
    return out


def test_zero_filled_honest_members_load(tmp_path):
    """The writer below makes loadable files, so each refusal is the lie's doing."""
    net = tiny_net()
    net.load_npz(write_members(tmp_path / "w.npz", honest_members()))
    assert all(not value.any() for value in all_params(net).values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(tiny_arrays())),
       shape=st.lists(st.integers(0, 1 << 40), min_size=0, max_size=4).map(tuple))
def test_any_declared_shape_but_the_expected_one_is_refused(key, shape, tmp_path):
    members = honest_members()
    if shape == all_params(tiny_net())[key].shape:
        return
    members[key] = (header_bytes(np.float32, shape), 64)   # the data never matches the claim
    message = refused(write_members(tmp_path / "w.npz", members), naming=key)
    assert "shape" in message


def test_a_header_longer_than_numpy_allows_is_refused(tmp_path):
    members = honest_members()
    members["fc/b"] = (b"\x93NUMPY\x02\x00" + (50_000).to_bytes(4, "little") + b" " * 64, 0)
    assert "header" in refused(write_members(tmp_path / "w.npz", members), naming="fc/b")


def test_a_member_padded_with_extra_data_is_refused(tmp_path):
    members = honest_members()
    header, size = members["fc/b"]
    members["fc/b"] = (header, size + 4)
    assert "more data" in refused(write_members(tmp_path / "w.npz", members), naming="fc/b")


def test_a_member_shorter_than_its_header_is_refused(tmp_path):
    members = honest_members()
    header, size = members["fc/W"]
    members["fc/W"] = (header, size - 4)
    assert "truncated" in refused(write_members(tmp_path / "w.npz", members), naming="fc/W")


ISOLATED = TINY + textwrap.dedent("""
    import json, resource, sys
    from convlab.engine.nets.weights import read_npz
    net = tiny_net()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        read_npz(net, sys.argv[1])
        outcome = {"error": None, "message": ""}
    except BaseException as exc:  # MemoryError is exactly what must not happen
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    outcome["growth"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    print(json.dumps(outcome))
""")


def read_in_isolation(path) -> dict:
    """``read_npz`` in a fresh interpreter: ``{"error", "message", "growth"}`` (peak RSS bytes)."""
    done = subprocess.run([sys.executable, "-c", ISOLATED, os.fspath(path)], capture_output=True,
                          text=True, timeout=300, cwd=os.path.dirname(os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def size_lies(tmp_path_factory):
    """Three hostile files of a few MB each; the lying member is named in the key."""
    folder = tmp_path_factory.mktemp("lies")
    huge = honest_members()
    huge["conv1/W"] = (header_bytes(np.float32, (1 << 18, 1 << 18)), 1 << 16)   # declares 256 GiB
    bomb = honest_members()
    bomb["fc/W"] = (header_bytes(np.float32, (GIB // 4,)), GIB)                  # inflates to 1 GiB
    padded = honest_members()
    header, size = padded["fc/b"]
    padded["fc/b"] = (header, size + GIB)                                     # honest, then 1 GiB
    files = {name: write_members(folder / f"{name.replace('/', '-')}.npz", members)
             for name, members in (("conv1/W", huge), ("fc/W", bomb), ("fc/b", padded))}
    yield files
    for path in files.values():
        os.unlink(path)


@pytest.mark.parametrize("key", ["conv1/W", "fc/W", "fc/b"])
def test_size_lies_are_refused_without_the_memory_they_claim(key, size_lies):
    assert os.path.getsize(size_lies[key]) < 16 << 20          # a small file ...
    outcome = read_in_isolation(size_lies[key])
    assert outcome["error"] == "ValueError", outcome          # ... never MemoryError
    assert key in outcome["message"], outcome
    assert outcome["growth"] < ISOLATED_GROWTH_LIMIT, f"peak RSS grew {outcome['growth'] >> 20} MiB"


# ------------------------------------------------------------------- special files
def refused_without_blocking(path, seconds: float = 10.0) -> str:
    """``read_npz`` on ``path`` in a thread: it must answer within ``seconds``."""
    result: dict = {}

    def attempt():
        try:
            read_npz(tiny_net(), path)
            result["error"] = None
        except Exception as exc:  # noqa: BLE001 - the type is asserted below
            result["error"] = exc

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():  # unblock the reader so the thread can end, then fail
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail(f"reading {path} blocked for over {seconds} s")
    assert isinstance(result["error"], ValueError), result
    return str(result["error"])


def test_a_named_pipe_is_refused_before_it_is_read(tmp_path):
    fifo = tmp_path / "weights.npz"
    os.mkfifo(fifo)
    message = refused_without_blocking(fifo)
    assert "not a regular file" in message and str(fifo) in message


def test_a_device_is_refused(tmp_path):
    assert "not a regular file" in refused_without_blocking("/dev/null")


def test_a_missing_file_says_so(tmp_path):
    assert "no such file" in refused_without_blocking(tmp_path / "absent.npz")


def test_a_named_pipe_is_not_even_opened(tmp_path):
    """A writer waiting on the pipe is released by any open; refusing by stat leaves it waiting."""
    import time

    fifo = tmp_path / "weights.npz"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write(b'x')"])
    try:
        refused_without_blocking(fifo)
        time.sleep(0.3)
        assert writer.poll() is None, "the pipe was opened"
    finally:
        writer.kill()
        writer.wait()


@pytest.fixture(scope="module")
def tiny_file_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("tiny") / "w.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in tiny_arrays().items():
            with zf.open(key + ".npy", "w") as fh:
                np.lib.format.write_array(fh, value)
    return path.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_file_is_a_value_error_or_a_correct_load(data, tiny_file_bytes, tmp_path):
    """Flipped bytes or a cut anywhere (headers, deflate streams, the zip directory)."""
    raw = bytearray(tiny_file_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    raw = raw[:data.draw(st.integers(1, len(raw)))]
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(raw))
    try:
        arrays = read_npz(tiny_net(), path)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    expected = tiny_arrays()   # a damage the CRC cannot see must still give the true values
    for (layer, param), value in arrays.items():
        assert np.array_equal(value, expected[f"{layer}/{param}"])


# ------------------------------------------------- a zip directory that lies (issue 20, case 14)
def _with_end_record(tmp_path, *, entries=None, this_disk=None, name="lie.npz") -> str:
    """The tiny network's honest .npz with its end-of-central-directory counts overwritten."""
    import io
    import struct

    buf = io.BytesIO()
    np.savez(buf, **tiny_arrays())
    raw = bytearray(buf.getvalue())
    at = raw.rfind(b"PK\x05\x06")
    _, _, _, disk_count, total, *_ = struct.unpack_from("<4s4H2LH", raw, at)
    struct.pack_into("<HH", raw, at + 8, disk_count if this_disk is None else this_disk,
                     total if entries is None else entries)
    path = tmp_path / name
    path.write_bytes(bytes(raw))
    return os.fspath(path)


def test_the_honest_end_record_loads(tmp_path):
    net = tiny_net()
    net.load_npz(_with_end_record(tmp_path))
    assert_params_equal(net, tiny_arrays())


@pytest.mark.parametrize("entries", [1, 7, 9, 200, 65535])
def test_an_end_record_that_lies_about_its_member_count_is_refused(entries, tmp_path):
    path = _with_end_record(tmp_path, entries=entries, this_disk=entries)
    message = refused(path, naming="lie.npz")
    assert f"declares {entries:,}" in message and "lists 8 members" in message
    assert "\n" not in message


def test_an_end_record_that_claims_other_disks_is_refused(tmp_path):
    message = refused(_with_end_record(tmp_path, this_disk=3), naming="lie.npz")
    assert "several disks" in message


def test_the_member_budget_is_checked_from_the_end_record(tmp_path, monkeypatch):
    from convlab.engine.nets import weights

    monkeypatch.setattr(weights, "MAX_MEMBERS", 5)
    message = refused(_with_end_record(tmp_path), naming="lie.npz")
    assert "declares 8 members; a .npz may hold at most 5 arrays" in message
