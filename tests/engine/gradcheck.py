"""Central finite differences in float64 for ``convlab.engine.grad`` tests.

``check(net, x, mode)`` seeds the last layer with a random cotangent and compares, against
``(f(v + eps) - f(v - eps)) / 2 eps`` of ``f = sum(seed * output)``: the input's gradient, every
trained parameter's and every layer's output gradient (by adding a perturbation to that output).
Large arrays are checked at a seeded sample of positions, so each test stays fast.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import freeze
from convlab.engine.grad import backprop
from convlab.engine.grad.backprop import run_forward
from convlab.engine.nets import Network

EPS = 1e-6
SAMPLES = 24   # positions checked per array


def make_net(layers, input_shape, *, seed=0, constants=None) -> Network:
    """A float64 network from spec layers, every parameter random (BN's averages too, the
    variance positive) so that no gradient is trivially 0 or 1; ``constants``: ``{layer:
    shape}`` for stored constants (mul, add_const, matmul)."""
    net = Network.from_spec({"name": "t", "input_shape": list(input_shape), "layers": layers},
                            seed=seed, xp=np)
    rng = np.random.default_rng(seed + 100)
    for layer in net.layers:
        for key, value in list(layer.params.items()):
            shape = value.shape
            if key == "avg_var":
                arr = rng.uniform(0.5, 1.5, shape)
            elif key == "gamma":
                arr = 1 + 0.3 * rng.standard_normal(shape)
            else:
                arr = rng.standard_normal(shape) * (0.5 if key != "W" else np.sqrt(1.0 / max(
                    1, int(np.prod(shape[1:])))))
            layer.params[key] = freeze(arr.astype(np.float64))
    return net


def _positions(shape, rng):
    size = int(np.prod(shape))
    flat = rng.choice(size, size=min(size, SAMPLES), replace=False)
    return [np.unravel_index(int(i), shape) for i in flat]


def _objective(net, x, seeds, mode, rng_seed):
    result, _, _ = run_forward(net, x, mode=mode, rng=rng_seed)
    return sum(float((s * result[name]).sum()) for name, s in seeds.items())


def _numeric(f, arr, positions):
    """``{position: (f(arr + eps e) - f(arr - eps e)) / 2 eps}``, arr a writable float64 copy."""
    out = {}
    for pos in positions:
        keep = arr[pos]
        arr[pos] = keep + EPS
        up = f()
        arr[pos] = keep - EPS
        down = f()
        arr[pos] = keep
        out[pos] = (up - down) / (2 * EPS)
    return out


def _compare(what, analytic, numeric, scale):
    for pos, value in numeric.items():
        got = float(analytic[pos])
        assert abs(got - value) <= 1e-6 * scale + 1e-6 * abs(value), \
            f"{what}{list(pos)}: backprop {got!r}, finite differences {value!r}"


def check(net, x, *, mode="test", seed=0, layers_to_check=None):
    """Compare every gradient of :func:`backprop` (seeded at the last layer) with finite
    differences; ``mode`` "train" uses the same dropout masks in every evaluation (``rng=seed``).
    Returns the :class:`Gradients`."""
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    last = net.layers[-1].name
    out, _, _ = run_forward(net, x, mode=mode, rng=seed)
    seeds = {last: rng.standard_normal(out[last].shape)}
    grads = backprop(net, x, seeds, mode=mode, rng=seed)
    scale = max(1.0, *(float(np.abs(g).max()) for g in grads.params.values()),
                float(np.abs(grads.input).max()))
    f = lambda: _objective(net, x, seeds, mode, seed)  # noqa: E731
    _compare("input", grads.input, _numeric(f, x, _positions(x.shape, rng)), scale)
    for key, g in grads.params.items():
        name, param = key.split("/")
        layer = net[name]
        arr = np.array(layer.params[param])
        layer.params[param] = arr                     # writable while perturbed
        try:
            _compare(key, g, _numeric(f, arr, _positions(arr.shape, rng)), scale)
        finally:
            layer.params[param] = freeze(arr)
    for layer in net.layers[:-1] if layers_to_check is None else [net[n] for n in layers_to_check]:
        _check_output(net, layer, grads, f, rng, scale)
    return grads


def _check_output(net, layer, grads, f, rng, scale):
    """A layer's output gradient: perturb its output through an instance-level ``forward``."""
    shape = grads.forward[layer.name].shape
    delta = np.zeros(shape)
    plain = layer.forward

    def shifted(inputs, **kw):
        y, cache = plain(inputs, **kw)
        return y + delta, cache

    layer.forward = shifted
    try:
        _compare(f"output of {layer.name}", grads.outputs[layer.name],
                 _numeric(f, delta, _positions(shape, rng)), scale)
    finally:
        del layer.forward


def random_net(rng, act="relu"):
    """Conv (random stride, asymmetric pad, dilation, groups) -> BN -> ReLU -> LRN -> pool (max
    or avg, random geometry) -> deconv (random) -> conv -> dropout -> fc; resampled until every
    shape is valid. ``act``: "leaky_relu" for finite differences (ReLU's zeros tie in max
    pooling, where the function has a kink)."""
    while True:
        c_in, g = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        c1 = 2 * int(rng.integers(1, 3))
        k1 = rng.integers(1, 4, 2).tolist()
        # padding below the kernel: an output whose window is all padding equals the bias, and
        # such equal values tie in max pooling (a kink finite differences cannot follow)
        pads = [[int(v) for v in rng.integers(0, k, 2)] for k in k1]
        layers = [
            {"name": "c1", "kind": "conv", "out_channels": c1 * g, "ksize": k1,
             "stride": rng.integers(1, 3, 2).tolist(), "pad": pads,
             "dilation": rng.integers(1, 3, 2).tolist()},
            {"name": "bn", "kind": "bn"}, {"name": "r", "kind": act},
            {"name": "n", "kind": "lrn", "alpha": 0.3, "n": int(rng.choice([3, 5]))},
            {"name": "p", "kind": "pool", "mode": str(rng.choice(["max", "avg"])),
             "ksize": rng.integers(2, 4, 2).tolist(), "stride": rng.integers(1, 3, 2).tolist(),
             "pad": int(rng.integers(0, 2)), "cover_all": bool(rng.integers(0, 2))},
            {"name": "d", "kind": "deconv", "out_channels": 2 * g, "groups": g,
             "ksize": rng.integers(1, 4, 2).tolist(), "stride": rng.integers(1, 3, 2).tolist(),
             "pad": int(rng.integers(0, 2)), "dilation": int(rng.integers(1, 3))},
            {"name": "c2", "kind": "conv", "out_channels": 2 * g, "ksize": 2, "groups": g},
            {"name": "drop", "kind": "dropout", "ratio": float(rng.uniform(0.1, 0.6))},
            {"name": "fc", "kind": "fc", "out_size": int(rng.integers(2, 5))}]
        shape = (c_in * g, int(rng.integers(6, 12)), int(rng.integers(6, 12)))
        try:
            net = make_net(layers, shape, seed=int(rng.integers(1000)))
        except ValueError:
            continue
        return net, shape
