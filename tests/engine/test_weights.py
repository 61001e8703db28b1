"""Chainer-layout .npz weights: round trip, prefixes, casting, and all-or-nothing refusals."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.nets import build_network

from .helpers import all_params, assert_params_equal, snapshot

EXPECTED_KEYS = (
    [f"conv{i}/{p}" for i in range(1, 6) for p in ("W", "b")]
    + [f"bn{i}/{p}" for i in (1, 2) for p in ("gamma", "beta", "avg_mean", "avg_var")]
    + [f"fc{i}/{p}" for i in (6, 7, 8) for p in ("W", "b")]
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights")
    yield path
    for f in path.iterdir():   # hundreds of MB each: do not leave them for pytest's tmp retention
        f.unlink()


@pytest.fixture
def npz(workdir, request):
    """Write ``{key: array}`` to a fresh .npz in the module's folder; removed after the test."""
    made = []

    def write(arrays: dict, name: str | None = None):
        path = workdir / (name or f"{request.node.name[:60]}-{len(made)}.npz".replace("/", "_"))
        np.savez(path, **arrays)
        made.append(path)
        return path

    yield write
    for path in made:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def source():
    """The weights being saved and loaded (seed 0); never modified."""
    return build_network("alexbn", seed=0)


@pytest.fixture(scope="module")
def source_params(source):
    return all_params(source)


@pytest.fixture(scope="module")
def saved(source, workdir):
    path = workdir / "alexbn-seed0.npz"
    source.save_npz(path)
    return path


@pytest.fixture(scope="module")
def target():
    """A network every refusal is tried on (seed 1); the refusals must leave it as built."""
    return build_network("alexbn", seed=1)


@pytest.fixture(scope="module")
def target_before(target):
    return snapshot(target)


@pytest.fixture(scope="module")
def loader():
    """A network that successful loads go into; scrambled before each use."""
    return build_network("alexbn", seed=2)


def scramble(net):
    """Replace every array by -7s, so a load that silently did nothing cannot pass.

    Replaced, not overwritten in place: weights are frozen (read-only, ``backend.freeze``)."""
    for layer in net.layers:
        for key, value in layer.params.items():
            layer.params[key] = np.full_like(value, -7)


def refused(net, path, before, *, naming=None):
    with pytest.raises(ValueError) as info:
        net.load_npz(path)
    if naming is not None:
        assert naming in str(info.value), f"the message does not name {naming!r}: {info.value}"
    try:
        assert_params_equal(net, before)
    except AssertionError:
        restore(net, before)   # so that this failure does not cascade into the next refusals
        raise
    return str(info.value)


def restore(net, arrays):
    for layer in net.layers:
        for name in list(layer.params):
            layer.params[name] = arrays[f"{layer.name}/{name}"].copy()


# ------------------------------------------------------------------------------ saving
def test_save_npz_writes_chainer_keys(saved, source_params):
    with np.load(saved, allow_pickle=False) as f:
        files = set(f.files)
        assert set(EXPECTED_KEYS) <= files
        extra = files - set(EXPECTED_KEYS)
        assert extra <= {"bn1/N", "bn2/N"}, extra      # the only optional keys Chainer writes
        for key in EXPECTED_KEYS:
            arr = f[key]
            assert arr.dtype == np.float32, key
            assert np.array_equal(arr, source_params[key]), key
        assert f["fc6/W"].shape == (4096, 9216) and f["conv2/W"].shape == (256, 96, 5, 5)


def test_round_trip_into_a_network_with_another_seed(saved, loader, source_params):
    assert not np.array_equal(all_params(loader)["conv1/W"], source_params["conv1/W"])
    loader.load_npz(saved)
    assert_params_equal(loader, {k: v for k, v in source_params.items()})


def test_save_npz_writes_exactly_the_given_path(source, source_params, loader, workdir):
    """Chainer's save_npz writes to the path it is given; np.savez(path) would add '.npz'."""
    path = workdir / "alexbn-weights.bin"
    source.save_npz(path)
    try:
        assert path.is_file()
        assert not (workdir / "alexbn-weights.bin.npz").exists()
        scramble(loader)
        loader.load_npz(path)
        assert_params_equal(loader, source_params)
    finally:
        path.unlink(missing_ok=True)
        (workdir / "alexbn-weights.bin.npz").unlink(missing_ok=True)


def test_save_npz_accepts_a_string_path(source, workdir):
    path = workdir / "as-string.npz"
    try:
        source.save_npz(str(path))
        with np.load(path, allow_pickle=False) as f:
            assert "conv1/W" in f.files
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize("prefix", ["predictor/", "updater/model:main/",
                                    "updater/model:main/predictor/"])
def test_prefixed_keys_load(prefix, loader, source_params, npz):
    path = npz({prefix + k: v for k, v in source_params.items()})
    scramble(loader)
    loader.load_npz(path)
    assert_params_equal(loader, source_params)


def test_trainer_snapshot_with_optimizer_state_and_counters_loads(loader, source_params, npz):
    """What Chainer's trainer snapshot holds beside the model: counters and Adam's m and v."""
    arrays = {"updater/model:main/predictor/" + k: v for k, v in source_params.items()}
    arrays["updater/model:main/predictor/bn1/N"] = np.array(12, np.int64)
    arrays["updater/iteration"] = np.array(1000, np.int64)
    arrays["updater/epoch_detail"] = np.array(0.5)
    arrays["updater/optimizer:main/t"] = np.array(1000, np.int64)
    arrays["updater/optimizer:main/predictor/conv1/W/m"] = np.zeros((96, 3, 11, 11), np.float32)
    arrays["updater/optimizer:main/predictor/conv1/b/v"] = np.zeros(96, np.float32)
    arrays["extensions/LogReport/_log"] = np.array("[]")
    path = npz(arrays)
    scramble(loader)
    loader.load_npz(path)
    assert_params_equal(loader, source_params)


def test_batch_norm_n_is_optional(loader, source_params, npz):
    arrays = dict(source_params)
    arrays["bn1/N"] = np.array(0, np.int64)   # Chainer saves N as an int scalar
    arrays["bn2/N"] = np.array(0, np.int64)
    path = npz(arrays)
    scramble(loader)
    loader.load_npz(path)
    assert_params_equal(loader, source_params)


def test_float64_arrays_are_cast_to_float32(loader, source_params, npz):
    arrays = dict(source_params)
    cast = ("conv1/W", "bn1/gamma", "bn2/avg_var", "fc8/W", "fc8/b")
    for key in cast:
        # not representable in float32: the load must round to the nearest float32
        arrays[key] = source_params[key].astype(np.float64) * (1 + 1e-12)
    path = npz(arrays)
    scramble(loader)
    loader.load_npz(path)
    loaded = all_params(loader)
    for key in cast:
        assert loaded[key].dtype == np.float32, key
        np.testing.assert_array_equal(loaded[key], arrays[key].astype(np.float32))
    assert_params_equal(loader, source_params)


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("missing", ["conv1/W", "bn2/avg_var", "fc8/b"])
def test_missing_key_refused_naming_it(missing, target, target_before, source_params, npz):
    path = npz({k: v for k, v in source_params.items() if k != missing})
    refused(target, path, target_before, naming=missing)


def test_missing_key_under_a_prefix_refused_naming_it(target, target_before, source_params, npz):
    path = npz({"predictor/" + k: v for k, v in source_params.items() if k != "fc7/W"})
    refused(target, path, target_before, naming="fc7/W")


@pytest.mark.parametrize("key,shape", [("fc8/b", (999,)), ("conv1/W", (3, 96, 11, 11)),
                                       ("bn1/gamma", (96, 1)), ("fc6/W", (9216, 4096))])
def test_wrong_shape_refused_naming_the_key(key, shape, target, target_before, source_params, npz):
    arrays = dict(source_params)
    arrays[key] = np.zeros(shape, np.float32)
    refused(target, npz(arrays), target_before, naming=key)


@pytest.mark.parametrize("key,dtype", [("fc8/b", np.int32), ("bn1/avg_var", np.int64),
                                       ("conv5/W", np.float16), ("fc7/b", np.complex64)])
def test_other_dtypes_refused(key, dtype, target, target_before, source_params, npz):
    arrays = dict(source_params)
    arrays[key] = np.ones(source_params[key].shape, dtype)
    refused(target, npz(arrays), target_before, naming=key)


def test_pickled_object_array_refused(target, target_before, source_params, npz):
    arrays = dict(source_params)
    arrays["fc8/b"] = np.array([object()] * 1000, dtype=object)   # np.savez pickles this
    refused(target, npz(arrays), target_before)


def test_non_npz_file_refused(target, target_before, workdir):
    path = workdir / "not-weights.npz"
    path.write_text("these are not weights\n")
    refused(target, path, target_before)


def test_plain_npy_file_refused(target, target_before, workdir):
    path = workdir / "array.npy"
    np.save(path, np.zeros(10, np.float32))
    refused(target, path, target_before)


def test_truncated_npz_refused(target, target_before, saved, workdir):
    path = workdir / "truncated.npz"
    with open(saved, "rb") as f:
        path.write_bytes(f.read(4 << 20))   # the first 4 MB: no central directory
    refused(target, path, target_before)


def test_refusals_left_the_target_as_built(target, target_before):
    # the target was built with seed 1, and after all the refusals above it still is
    assert_params_equal(target, all_params(build_network("alexbn", seed=1)))
    assert_params_equal(target, target_before)


def test_big_endian_float32_loads_as_native(loader, source_params, npz):
    arrays = dict(source_params)
    arrays["conv2/W"] = source_params["conv2/W"].astype(">f4")
    path = npz(arrays)
    scramble(loader)
    loader.load_npz(path)
    assert all_params(loader)["conv2/W"].dtype == np.float32
    assert_params_equal(loader, source_params)


def test_float64_too_large_for_float32_refused(target, target_before, source_params, npz):
    arrays = dict(source_params)
    arrays["fc8/b"] = np.full(source_params["fc8/b"].shape, 1e300, np.float64)
    message = refused(target, npz(arrays), target_before, naming="fc8/b")
    assert "too large" in message


def test_folder_refused_as_a_folder(target, target_before, workdir):
    folder = workdir / "a-folder.npz"
    folder.mkdir(exist_ok=True)
    assert "folder" in refused(target, folder, target_before)
    folder.rmdir()


def test_a_damaged_member_is_refused_with_a_sentence(target, target_before, source_params, npz):
    import zipfile

    path = npz(dict(source_params))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("fc8/b.npy")
    with open(path, "r+b") as fh:  # flip a byte in fc8/b's data: its CRC no longer matches
        fh.seek(info.header_offset + 30 + len(info.filename) + info.file_size - 8)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    message = refused(target, path, target_before, naming="fc8/b")
    assert "damaged" in message


def test_a_member_that_is_not_npy_is_refused(target, target_before, source_params, npz):
    import zipfile

    path = npz({k: v for k, v in source_params.items() if k != "fc8/b"})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("fc8/b.npy", b"not an array at all")
    refused(target, path, target_before, naming="fc8/b")


def test_saved_files_are_readable_like_any_new_file(source, workdir):
    import os
    import stat

    path = workdir / "mode.npz"
    source.save_npz(path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    path.unlink()


def test_a_shapes_only_network_takes_no_weight_memory_and_loads_a_file(saved, source_params):
    net = build_network("alexbn", init=False)
    assert net["fc6"].params["W"].strides == (0, 0)
    assert sum(r.params for r in net.summary()) == 62_379_048
    net.load_npz(saved)
    assert_params_equal(net, source_params)
    loaded = net["fc6"].params["W"]                  # real memory now, not the zero-stride placeholder
    assert loaded.strides == (9216 * 4, 4) and not np.shares_memory(loaded, net["fc7"].params["W"])
