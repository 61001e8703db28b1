"""AlexBN and Alex as data: summary rows, counts, receptive fields, initialisation, forward."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.nets import build_network

from .helpers import all_params, param

ALEXBN_ROWS = ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "conv3",
               "relu3", "conv4", "relu4", "conv5", "relu5", "pool5", "fc6", "relu6", "drop6",
               "fc7", "relu7", "drop7", "fc8"]
ALEX_ROWS = ["conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2", "conv3",
             "relu3", "conv4", "relu4", "conv5", "relu5", "pool5", "fc6", "relu6", "drop6",
             "fc7", "relu7", "drop7", "fc8"]

# REFERENCE.md, "AlexBN at 227"
SHAPES_227 = {
    "conv1": (96, 55, 55), "bn1": (96, 55, 55), "relu1": (96, 55, 55), "pool1": (96, 27, 27),
    "conv2": (256, 27, 27), "bn2": (256, 27, 27), "relu2": (256, 27, 27), "pool2": (256, 13, 13),
    "conv3": (384, 13, 13), "relu3": (384, 13, 13), "conv4": (384, 13, 13),
    "relu4": (384, 13, 13), "conv5": (256, 13, 13), "relu5": (256, 13, 13),
    "pool5": (256, 6, 6), "fc6": (4096,), "relu6": (4096,), "drop6": (4096,), "fc7": (4096,),
    "relu7": (4096,), "drop7": (4096,), "fc8": (1000,),
}
PARAMS = {"conv1": 34_944, "bn1": 192, "conv2": 614_656, "bn2": 512, "conv3": 885_120,
          "conv4": 1_327_488, "conv5": 884_992, "fc6": 37_752_832, "fc7": 16_781_312,
          "fc8": 4_097_000}
RF_JUMP = {"conv1": (11, 4), "pool1": (19, 8), "conv2": (51, 8), "pool2": (67, 16),
           "conv3": (99, 16), "conv4": (131, 16), "conv5": (163, 16), "pool5": (195, 32)}
FAN_IN = {"conv1": 3 * 11 * 11, "conv2": 96 * 5 * 5, "conv3": 256 * 9, "conv4": 384 * 9,
          "conv5": 384 * 9, "fc6": 9216, "fc7": 4096, "fc8": 4096}


def conv_macs(c_in, c_out, k, out_hw):
    return c_out * c_in * k * k * out_hw * out_hw


MACS = {"conv1": conv_macs(3, 96, 11, 55), "conv2": conv_macs(96, 256, 5, 27),
        "conv3": conv_macs(256, 384, 3, 13), "conv4": conv_macs(384, 384, 3, 13),
        "conv5": conv_macs(384, 256, 3, 13), "fc6": 9216 * 4096, "fc7": 4096 * 4096,
        "fc8": 4096 * 1000}


@pytest.fixture(scope="module")
def alexbn():
    return build_network("alexbn", seed=0)


@pytest.fixture(scope="module")
def alex():
    return build_network("alex", seed=0)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(42)
    return rng.uniform(-1, 1, (2, 3, 227, 227)).astype(np.float32)


@pytest.fixture(scope="module")
def forward_inference(alexbn, batch):
    return alexbn.forward(batch)


def rows_by_name(rows):
    return {row.name: row for row in rows}


# ------------------------------------------------------------------------------ summary
def test_alexbn_summary_rows_in_order(alexbn):
    rows = alexbn.summary()
    assert [row.name for row in rows] == ALEXBN_ROWS
    assert all(row.error == "" or row.error is None for row in rows)


def test_alexbn_summary_default_input_is_227(alexbn):
    default, explicit = alexbn.summary(), alexbn.summary(input_shape=(3, 227, 227))
    assert [(r.name, r.output_shape, r.params, r.macs) for r in default] == \
           [(r.name, r.output_shape, r.params, r.macs) for r in explicit]


def test_alexbn_output_shapes_at_227(alexbn):
    assert {r.name: tuple(r.output_shape) for r in alexbn.summary((3, 227, 227))} == SHAPES_227


def test_alexbn_params_per_row_and_total(alexbn):
    rows = alexbn.summary((3, 227, 227))
    for row in rows:
        assert row.params == PARAMS.get(row.name, 0), row.name
    assert sum(row.params for row in rows) == 62_379_048


def test_alexbn_parameter_arrays_have_chainer_shapes(alexbn):
    p = all_params(alexbn)
    assert p["conv1/W"].shape == (96, 3, 11, 11) and p["conv2/W"].shape == (256, 96, 5, 5)
    assert p["fc6/W"].shape == (4096, 9216) and p["fc8/W"].shape == (1000, 4096)
    assert p["bn2/avg_var"].shape == (256,)
    assert all(v.dtype == np.float32 for v in p.values())
    learned = sum(v.size for k, v in p.items() if not k.endswith(("avg_mean", "avg_var", "/N")))
    assert learned == 62_379_048


def test_alexbn_macs(alexbn):
    rows = alexbn.summary((3, 227, 227))
    for row in rows:
        if row.name in MACS:
            assert row.macs == MACS[row.name], row.name
    assert rows_by_name(rows)["conv2"].macs == 447_897_600   # "conv2 alone 448 M"
    assert sum(row.macs for row in rows) == 1_135_256_096


def test_alexbn_receptive_fields(alexbn):
    rows = alexbn.summary((3, 227, 227))
    by_name = rows_by_name(rows)
    for name, (rf, jump) in RF_JUMP.items():
        assert (by_name[name].rf, by_name[name].jump) == (rf, jump), name
    # point-wise rows (BN, ReLU) keep the receptive field of the row before them
    for before, after in [("conv1", "bn1"), ("bn1", "relu1"), ("conv2", "bn2"), ("conv5", "relu5")]:
        assert (by_name[after].rf, by_name[after].jump) == (by_name[before].rf, by_name[before].jump)


def test_alexbn_at_224_still_reaches_pool5_6x6(alexbn):
    rows = rows_by_name(alexbn.summary((3, 224, 224)))
    assert rows["conv1"].output_shape == (96, 54, 54)
    assert rows["pool1"].output_shape == (96, 27, 27)     # cover_all: floor would give 26
    assert rows["pool2"].output_shape == (256, 13, 13)
    assert rows["pool5"].output_shape == (256, 6, 6)
    assert rows["fc8"].output_shape == (1000,)
    assert all(not row.error for row in rows.values())


def test_input_that_cannot_reach_fc6_reports_instead_of_raising(alexbn):
    rows = alexbn.summary((3, 180, 180))
    assert [row.name for row in rows] == ALEXBN_ROWS
    by_name = rows_by_name(rows)
    assert by_name["pool5"].output_shape == (256, 5, 5)    # 43 -> 21 -> 21 -> 10 -> 5
    assert isinstance(by_name["fc6"].error, str) and len(by_name["fc6"].error.split()) >= 3
    assert "9216" in by_name["fc6"].error.replace(",", "")
    failing = ALEXBN_ROWS.index("fc6")
    assert all(not row.error for row in rows[:failing])
    assert all(row.output_shape is not None for row in rows[:failing])
    assert all(row.output_shape is None for row in rows[failing:])


@pytest.mark.parametrize("shape,first_failing", [
    ((3, 5, 5), "conv1"),        # kernel 11 on 5
    ((1, 227, 227), "conv1"),    # one channel where conv1 wants three
    ((3, 20, 20), "pool2"),      # conv1 3 -> pool1 1 -> conv2 1 -> pool2: window 3 on 1
])
def test_input_failing_early_marks_first_failing_row_only(alexbn, shape, first_failing):
    rows = alexbn.summary(shape)
    errors = [row.name for row in rows if row.error]
    assert errors == [first_failing]
    index = ALEXBN_ROWS.index(first_failing)
    assert all(row.output_shape is None for row in rows[index:])


def test_alex_has_lrn_rows_after_relu(alex, alexbn):
    rows = alex.summary((3, 227, 227))
    assert [row.name for row in rows] == ALEX_ROWS
    by_name, bn_rows = rows_by_name(rows), rows_by_name(alexbn.summary((3, 227, 227)))
    for name in ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]:
        assert by_name[name].params == bn_rows[name].params, name
        assert by_name[name].output_shape == bn_rows[name].output_shape, name
    assert by_name["norm1"].params == 0 and by_name["norm1"].output_shape == (96, 55, 55)
    assert by_name["norm2"].output_shape == (256, 27, 27)
    assert sum(row.params for row in rows) == 62_379_048 - 192 - 512
    assert by_name["pool5"].rf == 195 and by_name["pool5"].jump == 32


def test_unknown_network_name_raises():
    with pytest.raises(ValueError, match="vgg16"):
        build_network("vgg16")


# ------------------------------------------------------------------------- initialisation
def test_same_seed_same_weights_different_seed_different(alexbn):
    same, other = all_params(build_network("alexbn", seed=0)), all_params(build_network("alexbn", seed=1))
    mine = all_params(alexbn)
    for key in mine:
        assert np.array_equal(mine[key], same[key]), key
    for key in ["conv1/W", "conv2/W", "conv5/W", "fc6/W", "fc8/W"]:
        assert not np.array_equal(mine[key], other[key]), key
    # layers are independent streams: conv1 and conv2 do not start with the same numbers
    assert not np.array_equal(mine["conv1/W"].ravel()[:100], mine["conv2/W"].ravel()[:100])


@pytest.mark.parametrize("layer", sorted(FAN_IN))
def test_lecun_normal_weights_zero_biases(alexbn, layer):
    flat = param(alexbn, f"{layer}/W").ravel()
    W = flat[::max(1, flat.size // 200_000)].astype(np.float64)   # a spread-out sample, for speed
    std = np.sqrt(1.0 / FAN_IN[layer])
    # the sample std of >= 34,848 normals is within 2% of the truth with overwhelming probability
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)
    kurtosis = ((W - W.mean()) ** 4).mean() / W.var() ** 2
    assert kurtosis == pytest.approx(3.0, abs=0.15)    # normal, not uniform (1.8)
    b = param(alexbn, f"{layer}/b")
    assert b.dtype == np.float32 and not b.any()


@pytest.mark.parametrize("name,size", [("bn1", 96), ("bn2", 256)])
def test_batch_norm_initialisation(alexbn, name, size):
    expected = {"gamma": 1.0, "beta": 0.0, "avg_mean": 0.0, "avg_var": 1.0}
    for key, value in expected.items():
        arr = param(alexbn, f"{name}/{key}")
        assert arr.shape == (size,) and arr.dtype == np.float32
        assert np.all(arr == value), key


# -------------------------------------------------------------------------------- forward
def test_forward_returns_every_layer_with_summary_shapes(alexbn, batch, forward_inference):
    out = forward_inference
    assert list(out) == ALEXBN_ROWS
    assert list(out.seconds) == ALEXBN_ROWS or sorted(out.seconds) == sorted(ALEXBN_ROWS)
    for row in alexbn.summary((3, 227, 227)):
        assert out[row.name].shape == (2,) + tuple(row.output_shape), row.name
        assert out[row.name].dtype == np.float32, row.name
        seconds = out.seconds[row.name]
        assert isinstance(seconds, float) and seconds >= 0.0
    assert np.all(np.isfinite(out["fc8"]))


def test_forward_outputs_follow_the_ops(alexbn, batch, forward_inference):
    out = forward_inference
    conv1 = ops.conv2d(batch, param(alexbn, "conv1/W"), param(alexbn, "conv1/b"), stride=4)
    np.testing.assert_allclose(out["conv1"], conv1, rtol=1e-6, atol=1e-6)
    bn1 = ops.batch_norm(out["conv1"], param(alexbn, "bn1/gamma"), param(alexbn, "bn1/beta"),
                         mean=param(alexbn, "bn1/avg_mean"), var=param(alexbn, "bn1/avg_var"))
    np.testing.assert_allclose(out["bn1"], bn1, rtol=1e-6, atol=1e-7)
    # untrained BN in inference form: (x - 0) / sqrt(1 + 2e-5)
    np.testing.assert_allclose(out["bn1"], out["conv1"] / np.sqrt(1 + 2e-5), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out["relu1"], np.maximum(out["bn1"], 0))
    np.testing.assert_array_equal(out["pool1"], ops.max_pool2d(out["relu1"], 3, stride=2))
    np.testing.assert_allclose(out["conv2"], ops.conv2d(out["pool1"], param(alexbn, "conv2/W"),
                                                        param(alexbn, "conv2/b"), pad=2),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["fc6"], ops.linear(out["pool5"], param(alexbn, "fc6/W"),
                                                      param(alexbn, "fc6/b")), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["drop6"], out["relu6"])   # dropout: identity at inference
    np.testing.assert_array_equal(out["drop7"], out["relu7"])


def test_forward_does_not_change_its_input(alexbn, batch, forward_inference):
    again = np.random.default_rng(42).uniform(-1, 1, (2, 3, 227, 227)).astype(np.float32)
    np.testing.assert_array_equal(batch, again)


def test_forward_casts_float64_input_to_float32(alexbn, batch, forward_inference):
    out = alexbn.forward(batch[:1].astype(np.float64))
    assert all(v.dtype == np.float32 for v in out.values())
    np.testing.assert_allclose(out["fc8"], forward_inference["fc8"][:1], rtol=1e-4, atol=1e-5)


def test_batch_statistics_differ_from_stored_averages(alexbn, batch, forward_inference):
    stats = alexbn.forward(batch, use_batch_stats=True)
    np.testing.assert_array_equal(stats["conv1"], forward_inference["conv1"])
    assert not np.allclose(stats["bn1"], forward_inference["bn1"], rtol=1e-3, atol=1e-3)
    assert not np.allclose(stats["fc8"], forward_inference["fc8"], rtol=1e-3, atol=1e-3)
    # with gamma 1 and beta 0 the batch-statistics output is standardised per channel over (N, H, W)
    bn1 = stats["bn1"].astype(np.float64)
    np.testing.assert_allclose(bn1.mean(axis=(0, 2, 3)), 0.0, atol=1e-4)
    np.testing.assert_allclose(bn1.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)
    bn2 = stats["bn2"].astype(np.float64)
    np.testing.assert_allclose(bn2.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)


def test_forward_of_an_input_that_does_not_fit_raises_value_error(alexbn):
    x = np.zeros((1, 3, 180, 180), np.float32)
    with pytest.raises(ValueError, match="linear|fc6"):
        alexbn.forward(x)


def test_alex_forward_applies_lrn_after_relu(alex):
    x = np.random.default_rng(3).uniform(0, 1, (1, 3, 227, 227)).astype(np.float32)
    out = alex.forward(x)
    assert list(out) == ALEX_ROWS
    np.testing.assert_allclose(out["norm1"], ops.local_response_norm(out["relu1"]), rtol=1e-6)
    np.testing.assert_array_equal(out["relu1"], np.maximum(out["conv1"], 0))
    assert out["fc8"].shape == (1, 1000)
