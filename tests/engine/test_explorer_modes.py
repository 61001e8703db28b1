"""The explorer's convolution modes: asymmetric "same" padding, transposed convolution, groups."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

from convlab.engine import arithmetic as ar
from convlab.engine.explorer.code import chainer_code, pytorch_code
from convlab.engine.explorer import (ExplorerSettings, explorer_bank, plan_explorer,
                                     run_explorer, transposed_weights)
from tests.engine import reference as ref

BARE = dict(batch_norm=False, relu=False, pool=1, filters=1)


def by_name(plan):
    return {stage.name: stage for stage in plan}


@pytest.mark.parametrize("kernel", range(1, 16))
def test_same_keeps_height_and_width_for_every_kernel_at_stride_1(kernel):
    image = np.random.default_rng(kernel).random((300, 451, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=kernel, stride=1, same=True, **BARE)
    assert by_name(plan_explorer(s, 300, 451))["conv"].shape == (1, 300, 451)
    assert run_explorer(image, s).maps["conv"].shape == (1, 300, 451)
    for dilation in (2, 3, 4):  # dilated spans, even or odd, keep it too (in the plan)
        s = ExplorerSettings(kernel=kernel, stride=1, dilation=dilation, same=True, **BARE)
        assert by_name(plan_explorer(s, 300, 451))["conv"].shape == (1, 300, 451)


def test_same_with_an_even_kernel_pads_the_extra_row_bottom_right_like_pytorch():
    s = ExplorerSettings(kernel=10, stride=1, same=True, **BARE)
    assert s.conv_pad() == ((4, 5), (4, 5))
    conv = by_name(plan_explorer(s, 300, 451))["conv"]
    assert "(300 + 4 + 5 − 10)" in conv.formula and "4 rows on top and 5 at the bottom" in conv.note
    image = np.random.default_rng(1).random((12, 9, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=4, stride=1, same=True, **BARE)
    got = run_explorer(image, s).maps["conv"]
    weights = explorer_bank(s)[0]
    x = image.transpose(2, 0, 1)[None]
    want = ref.conv2d(x, weights, pad=((1, 2), (1, 2)))[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert "F.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2))" in chainer_code(s)
    assert "no asymmetric padding" in chainer_code(s)
    assert "L.Convolution2D(3, 1, 4)\n" in chainer_code(s)  # pad=0 on the link itself
    assert 'padding="same"' in pytorch_code(s)
    strided = pytorch_code(s.replace(stride=2))
    assert "nn.ZeroPad2d((1, 2, 1, 2))" in strided and '"same"' not in strided


@hyp_settings(max_examples=25, deadline=None)
@given(h=st.integers(3, 9), w=st.integers(3, 9), k=st.integers(1, 5), s=st.integers(1, 4),
       p=st.integers(0, 3), d=st.integers(1, 2), grey=st.booleans(), g3=st.booleans())
def test_transposed_mode_size_is_deconv_out_size_and_values_match_the_scatter_loop(
        h, w, k, s, p, d, grey, g3):
    groups = 3 if g3 and not grey else 1
    try:
        out_h, out_w = ar.deconv_out_size(h, k, s, p, d), ar.deconv_out_size(w, k, s, p, d)
    except ValueError:
        out_h = None
    settings = ExplorerSettings(kernel=k, stride=s, padding=min(p, 10), dilation=d, filters=3,
                                transposed=True, groups=groups, grayscale=grey,
                                batch_norm=False, relu=False, pool=1)
    conv = by_name(plan_explorer(settings, h, w))["conv"]
    if out_h is None:
        assert conv.shape is None and conv.error
        return
    assert conv.shape == (3, out_h, out_w)
    image = np.random.default_rng(h * w).random((h, w, 3), dtype=np.float32)
    got = run_explorer(image, settings).maps["conv"]
    assert got.shape == (3, out_h, out_w)
    x = image.transpose(2, 0, 1)[None] if not grey else (image @ np.float32([0.299, 0.587, 0.114]))[None, None]
    weights = transposed_weights(explorer_bank(settings)[0], groups)
    want = ref.deconv2d(x, weights, stride=s, pad=p, dilation=d, groups=groups)[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_transposed_mode_in_the_readout_and_code():
    s = ExplorerSettings(transposed=True, kernel=4, stride=2, padding=1, filters=8)
    conv = by_name(plan_explorer(s, 300, 451))["conv"]
    assert conv.shape == (8, 600, 902)
    assert "H: 2×(300 − 1) + 4 − 2×1 = 600" in conv.formula
    assert "L.Deconvolution2D(3, 8, 4, stride=2, pad=1)" in chainer_code(s)
    assert "nn.ConvTranspose2d(3, 8, kernel_size=4, stride=2, padding=1)" in pytorch_code(s)
    huge = by_name(plan_explorer(ExplorerSettings(transposed=True), 341, 512))["conv"]
    assert huge.shape is None and "lower the stride" in huge.error


def test_groups_three_gives_each_third_of_the_filters_one_colour():
    image = np.random.default_rng(3).random((20, 17, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=3, stride=1, groups=3, filters=6, batch_norm=False, relu=False,
                         pool=1)
    weights = explorer_bank(s)[0]
    assert weights.shape == (6, 1, 3, 3)
    got = run_explorer(image, s).maps["conv"]
    for f in range(6):
        colour = image[:, :, f // 2][None, None]
        want = ref.conv2d(colour, weights[f:f + 1])[0, 0]
        np.testing.assert_allclose(got[f], want, rtol=1e-4, atol=1e-5)
    assert "groups=3" in chainer_code(s) and "groups=3" in pytorch_code(s)
    assert "Groups 3: the 6 filters split into 3 groups of 2" in by_name(plan_explorer(s, 20, 17))["conv"].note
    bad = by_name(plan_explorer(s.replace(filters=7), 20, 17))["conv"]
    assert bad.shape is None and "Groups 3 must divide" in bad.error
    grey = by_name(plan_explorer(s.replace(grayscale=True), 20, 17))["conv"]
    assert grey.shape is None and "1 input channel " in grey.error
    with pytest.raises(ValueError, match="groups 3 must divide"):
        s.replace(filters=7).validate()


def test_settings_saved_before_the_new_fields_still_load():
    old = {k: v for k, v in ExplorerSettings().as_dict().items()
           if k not in ("same", "transposed", "groups")}
    s = ExplorerSettings(**old).validate()
    assert (s.same, s.transposed, s.groups) == (False, False, 1)
