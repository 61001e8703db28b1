"""Feature visualisation: its adjoints by dot-product tests, determinism for a seed, and that it
raises its unit far above the unit's values over the bundled photos; top patches against a
brute-force ranking (a residual graph too)."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import attribution as A
from convlab.engine.attribution import features as fv
from convlab.engine.grad.backprop import run_forward
from convlab.engine.nets import build_network
from convlab.pipelines import images, samples

from .gradcheck import make_net
from .test_attribution import TINY, tiny


def test_spectrum_gradient_is_the_adjoint_of_the_parameterisation():
    """<J v, g> = <v, J^T g> for the linear part (spectrum -> colour), odd and even widths."""
    for h, w in ((7, 10), (8, 9)):
        rng = np.random.default_rng(h)
        spec = fv.Spectrum(h, w, rng)
        v = rng.standard_normal(spec.params.shape)
        g = rng.standard_normal((3, h, w))
        lin = lambda p: (setattr(spec, "params", p), np.log(  # noqa: E731
            spec.image()[0] / (1 - spec.image()[0])))[1]   # undo the sigmoid: the linear part
        forward = lin(v)
        back = spec.gradient(g, np.ones((3, h, w)))
        np.testing.assert_allclose((forward * g).sum(), (v * back).sum(), rtol=1e-9)


def test_sampling_gradient_is_its_adjoint():
    rng = np.random.default_rng(2)
    pic, g = rng.random((3, 9, 11)), rng.standard_normal((3, 9, 11))
    taps = fv._corners(*fv.random_affine(np.random.default_rng(5), 9, 11), 9, 11, 9, 11)
    grey = fv._sample(np.zeros_like(pic), taps)          # the constant part (grey outside)
    lhs = ((fv._sample(pic, taps) - grey) * g).sum()
    np.testing.assert_allclose(lhs, (pic * fv._sample_adjoint(g, taps, pic.shape)).sum(),
                               rtol=1e-10)


def test_feature_visualization_is_deterministic_for_a_seed():
    net = make_net(TINY, (3, 6, 6))
    calls = []
    a = A.feature_visualization(net, ("r1", 1), size=(12, 10), steps=6, seed=3,
                                on_step=lambda done, steps, pic: calls.append(done))
    b = A.feature_visualization(net, ("r1", 1), size=(12, 10), steps=6, seed=3)
    c = A.feature_visualization(net, ("r1", 1), size=(12, 10), steps=6, seed=4)
    assert a.shape == (3, 12, 10) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert calls == [1, 2, 3, 4, 5, 6]
    stopped = A.feature_visualization(net, ("r1", 1), size=(12, 10), steps=6, seed=3,
                                      should_stop=lambda: True)
    assert stopped.shape == (3, 12, 10)                   # the starting picture
    with pytest.raises(A.AttributionError, match="takes 2 input channels"):
        A.feature_visualization(tiny(), ("r1", 1), steps=1)


SIDE = 64


@pytest.fixture(scope="module")
def alexbn_and_photos():
    net = build_network("alexbn", seed=0)
    photos = [images.center_crop_imagenet(images.load_image(p), SIDE, shorter=74)["input"][0]
              for p in samples.list_samples()]
    return net, photos


def unit_mean(net, x, layer, channel):
    out = run_forward(net, x[None], upto=net.layer_names.index(layer))[0][layer]
    return float(out[0, channel].mean())


@pytest.mark.parametrize("layer, channel", [("conv2", 5), ("conv3", 17)])
def test_feature_visualization_raises_its_unit_far_above_photos(alexbn_and_photos, layer,
                                                                 channel):
    """On AlexBN (seed 0) at 64 pixels, 48 steps: the picture lifts the unit's mean more than
    twice as far above its mean over the bundled photos as the best photo does (measured:
    conv2/5 0.223 against photos -0.201 on average and -0.131 at best, 6.1x; conv3/17 0.252
    against 0.027 and 0.071, 5.1x)."""
    net, photos = alexbn_and_photos
    mean = np.asarray(images.IMAGENET_MEAN) / 255
    pic = A.feature_visualization(net, (layer, channel), size=SIDE, steps=48, seed=0, mean=mean)
    value = unit_mean(net, (pic - mean[:, None, None]).astype(np.float32), layer, channel)
    seen = np.array([unit_mean(net, p, layer, channel) for p in photos])
    above = (value - seen.mean()) / (seen.max() - seen.mean())
    print(f"{layer}/{channel}: picture {value:.4g}, photos' mean {seen.mean():.4g}, best photo "
          f"{seen.max():.4g}: {above:.1f}x as far above the mean as the best photo")
    assert above > 2


def brute_force_top(net, target, data, k):
    """Every (image, position) value from a plain forward of each image alone, ranked."""
    layer, channel, *where = target
    rows = []
    for n, x in enumerate(data):
        out = net.forward(x[None])[layer][0, channel]
        if out.ndim == 0:
            rows.append((n, None, float(out)))
            continue
        positions = [tuple(where)] if where else list(np.ndindex(*out.shape))
        best = max(positions, key=lambda p: (out[p], -p[0] * out.shape[1] - p[1]))
        rows.append((n, best, float(out[best])))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows[:k]


@pytest.mark.parametrize("target", [("r2", 1), ("pool", 2), ("c2", 0, 2, 5), ("fc", 3)])
def test_top_patches_equal_a_brute_force_ranking(target):
    net = tiny(12)
    data = np.random.default_rng(13).standard_normal((23, 2, 6, 6))
    got = A.top_patches(net, target, data, k=7)
    want = brute_force_top(net, target, data, 7)
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], rtol=1e-5)  # forward: f32
    for (n, box, _), (_, pos, _) in zip(got, want):
        if pos is None:
            assert box == (0, 0, 6, 6)
            continue
        field = net.receptive_field(target[0], *pos, (2, 6, 6)).clipped
        assert box == (field.top, field.left, field.bottom, field.right)
        grad = A.saliency(net, data[n], (target[0], target[1], *pos))
        rows, cols = np.nonzero(np.abs(grad).sum(axis=0))
        assert box[0] <= rows.min() and rows.max() < box[2]      # the gradient stays in it
        assert box[1] <= cols.min() and cols.max() < box[3]


def test_top_patches_batch_mode_takes_images_one_at_a_time():
    net = tiny(14)
    data = [x for x in np.random.default_rng(15).standard_normal((5, 2, 6, 6))]
    got = A.top_patches(net, ("r1", 0), data, k=5, mode="batch")
    alone = [float(run_forward(net, x[None], mode="batch")[0]["r1"][0, 0].max()) for x in data]
    assert sorted(alone, reverse=True) == pytest.approx([g[2] for g in got], rel=1e-12)
