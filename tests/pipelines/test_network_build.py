"""Networks the Network pane asks for: custom specs, conv1 learned from photos, one-channel input."""

from __future__ import annotations

import numpy as np

from convlab.engine.nets import presets as specs
from convlab.engine.nets import build_network
from convlab.pipelines import netbuild
from convlab.pipelines.network import NetworkRunner, NetworkSettings, quick_summary, spec_text

SMALL = {"name": "small", "input_shape": [3, 64, 64], "layers": [
    {"name": "conv1", "kind": "conv", "out_channels": 8, "ksize": 5, "stride": 2},
    {"name": "relu1", "kind": "relu"},
    {"name": "pool1", "kind": "pool", "ksize": 3, "stride": 2}]}


def test_a_preset_spec_runs_with_the_presets_weights():
    s = NetworkSettings(net="custom", spec=spec_text(specs.preset("alex")))
    net = netbuild.build(s)
    want = build_network("alex", seed=0)
    np.testing.assert_array_equal(net["conv3"].params["W"], want["conv3"].params["W"])


def test_learned_conv1_replaces_only_the_first_convolution_keeping_its_norm():
    s = NetworkSettings(net="custom", spec=spec_text(SMALL), learned_conv1=True, insize=64)
    random_w = netbuild.build(s.replace(learned_conv1=False))["conv1"].params["W"]
    net = NetworkRunner().network(s)
    learned = net["conv1"].params["W"]
    assert learned.shape == (8, 3, 5, 5) and not np.allclose(learned, random_w)
    np.testing.assert_allclose(np.linalg.norm(learned), np.linalg.norm(random_w), rtol=1e-4)
    assert "learned-from-photos" in net.weights_source
    again = NetworkRunner().network(s)["conv1"].params["W"]
    np.testing.assert_array_equal(learned, again)  # deterministic


def test_a_one_channel_spec_runs_on_the_photo_in_grey():
    spec = dict(SMALL, input_shape=[1, 64, 64])
    s = NetworkSettings(net="custom", spec=spec_text(spec), insize=64)
    image = np.random.default_rng(0).random((80, 90, 3), dtype=np.float32)
    result = NetworkRunner().run(image, s)
    assert result.prep["input"].shape == (1, 1, 64, 64)
    assert result.outputs["pool1"].shape == (8, 15, 15)


def test_quick_summary_gives_the_reason_without_the_fitting_sizes():
    spec = specs.preset("alexbn")
    spec["layers"][0]["stride"] = 2
    net = NetworkSettings(net="custom", spec=spec_text(spec))
    from convlab.engine.nets import Network

    shapes_only = Network.from_spec(net.network_spec(), init=False)
    quick = quick_summary(shapes_only, (3, 227, 227))
    full = shapes_only.summary((3, 227, 227))
    failing = next(r for r in full if r.error)
    assert [r.output_shape for r in quick] == [r.output_shape for r in full]
    assert failing.error.startswith(next(r for r in quick if r.error).error.rstrip())
    assert "Square inputs" in failing.error and "Square inputs" not in \
        next(r for r in quick if r.error).error


def test_learned_conv1_uses_the_seed():
    """Issue 10: the seed changed every other weight but conv1 learned from photos stayed seed 0's."""
    s = NetworkSettings(net="custom", spec=spec_text(SMALL), learned_conv1=True, insize=64)
    unit = [w / np.linalg.norm(w) for w in  # the norm follows the seed's random weights anyway
            (NetworkRunner().network(s.replace(seed=seed))["conv1"].params["W"] for seed in (0, 1))]
    assert not np.allclose(unit[0], unit[1], atol=1e-3)
    again = NetworkRunner().network(s.replace(seed=1))["conv1"].params["W"]
    np.testing.assert_allclose(again / np.linalg.norm(again), unit[1], atol=1e-6)


def test_a_huge_synset_words_beside_the_weights_is_skipped_unread(tmp_path):
    """Issue 20, case 10 (second half): a 1 GiB synset_words.txt beside the weights was read
    whole (2.4 GB resident). Under a 1 GiB address-space limit it must be passed over (it is
    not a class-name file ConvLab would use), and a proper one beside it still found."""
    import os
    import subprocess
    import sys

    with open(tmp_path / "synset_words.txt", "wb") as fh:
        fh.truncate(1 << 30)                                   # sparse: 1 GiB of NULs to a reader
    (tmp_path / "labels.txt").write_text("".join(f"n{i:08d} thing {i}\n" for i in range(1000)))
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
              "from convlab.pipelines.network import find_class_names; "
              "names = find_class_names(sys.argv[1]); print(len(names), names[7])")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "w.npz")],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1000", "thing", "7"]
