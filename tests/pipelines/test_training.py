"""The training loop: bit-identical reruns, a stopped and resumed run that ends where an
uninterrupted one does (mid-epoch and mid-evaluation), Chainer's LogReport entries, frozen
layers, callbacks, and one-sentence refusals of networks that do not fit the data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convlab.engine.nets import Network, presets
from convlab.pipelines import train_state
from convlab.pipelines.datasets import Dataset
from convlab.pipelines.datasets.builtin import CLASSES, generate
from convlab.pipelines.training import TrainConfig, Trainer, TrainingError

# BN (running averages), dropout (seeded masks), a 3x3 conv of 16 channels (Winograd forward)
SMALL = {"name": "small", "input_shape": [3, 32, 32], "layers": [
    {"name": "conv1", "kind": "conv", "in_channels": 3, "out_channels": 16, "ksize": 3, "pad": 1},
    {"name": "bn1", "kind": "bn", "size": 16},
    {"name": "relu1", "kind": "relu"},
    {"name": "pool1", "kind": "pool", "mode": "max", "ksize": 4, "stride": 4},
    {"name": "conv2", "kind": "conv", "in_channels": 16, "out_channels": 16, "ksize": 3, "pad": 1},
    {"name": "relu2", "kind": "relu"},
    {"name": "pool2", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2},
    {"name": "fc3", "kind": "fc", "in_size": 256, "out_size": 32},
    {"name": "relu3", "kind": "relu"},
    {"name": "drop3", "kind": "dropout", "ratio": 0.25},
    {"name": "fc4", "kind": "fc", "in_size": 32, "out_size": 8},
]}
KEYS = ["epoch", "iteration", "main/loss", "main/accuracy", "validation/main/loss",
        "validation/main/accuracy", "elapsed_time"]


@pytest.fixture(scope="module")
def data():
    return Dataset("shapes-rgb", CLASSES, generate("shapes-rgb", 120, 1),
                   generate("shapes-rgb", 40, 2))


def small_net(seed=0):
    return Network.from_spec(SMALL, seed=seed)


def weights(net):
    return {f"{l.name}/{k}": np.array(v) for l in net.layers for k, v in l.params.items()}


def same_log(a, b):
    strip = lambda log: [{k: v for k, v in e.items() if k != "elapsed_time"} for e in log]  # noqa
    assert strip(a) == strip(b)


CONFIG = TrainConfig(epochs=2, batch_size=32, optimizer="momentum", weight_decay=1e-4, seed=7)


def train(data, config=CONFIG, **kw):
    net = small_net()
    trainer = Trainer(net, data, config, **kw)
    return net, trainer, trainer.run()


def test_same_seed_gives_the_same_weights_bit_for_bit(data):
    a, ta, done = train(data)
    b, tb, _ = train(data)
    assert done and ta.finished
    for k, v in weights(a).items():
        np.testing.assert_array_equal(weights(b)[k], v, err_msg=k)
    same_log(ta.log, tb.log)
    c, _, _ = train(data, TrainConfig(**{**CONFIG.__dict__, "seed": 8}))
    assert not np.array_equal(weights(c)["conv1/W"], weights(a)["conv1/W"])
    assert not np.array_equal(weights(a)["bn1/avg_mean"], np.zeros(16, np.float32))  # updated


@pytest.mark.parametrize("stop_after", [3, 5, 6, 9], ids=["epoch1", "epoch1-eval", "epoch2",
                                                          "epoch2-eval"])
def test_a_stopped_run_resumes_to_the_same_weights_bit_for_bit(data, tmp_path, stop_after):
    """4 training batches and 2 test batches an epoch: asks 1-4 train, 5-6 test, and so on."""
    whole, t_whole, _ = train(data)
    asks = iter(range(1, 100))
    net, stopped, done = train(data, should_stop=lambda: next(asks) > stop_after)
    assert not done and not stopped.finished
    stopped.save(tmp_path / "snapshot.npz")
    again = small_net(seed=99)                       # other weights: the snapshot replaces them
    resumed = Trainer(again, data, CONFIG)
    resumed.resume(tmp_path / "snapshot.npz")
    assert resumed.run()
    for k, v in weights(whole).items():
        np.testing.assert_array_equal(weights(again)[k], v, err_msg=k)
    same_log(resumed.log, t_whole.log)


def test_the_log_is_chainers_log_report(data):
    entries = []
    _, trainer, _ = train(data, on_epoch=lambda entry, progress: entries.append(entry))
    assert [list(e) for e in trainer.log] == [KEYS, KEYS] and entries == trainer.log
    assert [(e["epoch"], e["iteration"]) for e in trainer.log] == [(1, 4), (2, 8)]
    for e in trainer.log:
        assert 0 <= e["main/accuracy"] <= 1 and 0 <= e["validation/main/accuracy"] <= 1
        assert e["main/loss"] > 0 and e["validation/main/loss"] > 0
    assert trainer.log[1]["elapsed_time"] >= trainer.log[0]["elapsed_time"] > 0
    json.dumps(trainer.log)


def test_callbacks_and_stopping_between_batches(data):
    seen = []
    asks = iter(range(1, 100))
    net, trainer, done = train(data, on_batch=seen.append, should_stop=lambda: next(asks) > 2)
    assert not done and trainer.at.batch == 2 and trainer.at.iteration == 2
    assert [(p.epoch, p.batch, p.batches, p.phase) for p in seen] == [(1, 1, 4, "train"),
                                                                       (1, 2, 4, "train")]
    assert trainer.log == []


def test_training_learns(data):
    config = TrainConfig(epochs=4, batch_size=16, optimizer="adam", seed=1)
    _, trainer, _ = train(data, config)
    first, last = trainer.log[0], trainer.log[-1]
    assert last["main/loss"] < first["main/loss"]


def test_frozen_layers_keep_their_weights(data):
    config = TrainConfig(**{**CONFIG.__dict__, "freeze": ("conv1", "bn1")})
    net, trainer, _ = train(data, config)
    start = small_net()
    np.testing.assert_array_equal(net["conv1"].params["W"], start["conv1"].params["W"])
    np.testing.assert_array_equal(net["bn1"].params["gamma"], start["bn1"].params["gamma"])
    assert not np.array_equal(net["fc4"].params["W"], start["fc4"].params["W"])


def test_a_snapshot_of_another_run_is_refused(data, tmp_path):
    _, trainer, _ = train(data, TrainConfig(**{**CONFIG.__dict__, "epochs": 1}))
    trainer.save(tmp_path / "s.npz")
    other = Trainer(small_net(), data, TrainConfig(**{**CONFIG.__dict__, "lr": 0.5}))
    with pytest.raises(train_state.SnapshotError, match="lr"):
        other.resume(tmp_path / "s.npz")
    longer = Trainer(small_net(), data, TrainConfig(**{**CONFIG.__dict__, "epochs": 2}))
    longer.resume(tmp_path / "s.npz")                # more epochs: the same run, going on
    assert longer.at.epoch == 1 and longer.run() and len(longer.log) == 2
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(train_state.SnapshotError, match="not a ConvLab training snapshot"):
        other.resume(tmp_path / "junk.npz")


def test_snapshot_files_are_whole_or_absent(data, tmp_path, monkeypatch):
    _, trainer, _ = train(data, TrainConfig(**{**CONFIG.__dict__, "epochs": 1}))
    target = tmp_path / "s.npz"
    trainer.save(target)
    before = target.read_bytes()

    def broken(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(KeyboardInterrupt):
        trainer.save(target)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]


def _sentence(exc):
    text = str(exc.value)
    assert "\n" not in text and text.endswith(".")
    return text


def test_networks_that_do_not_fit_the_data_are_refused(data):
    lenet = Network.from_spec(presets.with_classes(presets.preset("lenet"), 8))
    with pytest.raises(TrainingError) as info:
        Trainer(lenet, data)                         # 1 channel, 28 pixels; the data 3 x 32 x 32
    text = _sentence(info)
    assert "conv1" in text and "open the data at the network's input 1 × 28 × 28" in text
    spec = dict(SMALL, layers=SMALL["layers"][:-1] + [dict(SMALL["layers"][-1], out_size=10)])
    with pytest.raises(TrainingError) as info:
        Trainer(Network.from_spec(spec), data)
    assert "fc4 gives 10 scores but shapes-rgb has 8 classes; set fc4's out_size to 8" in _sentence(info)
    maps = dict(SMALL, layers=SMALL["layers"][:3])
    with pytest.raises(TrainingError) as info:
        Trainer(Network.from_spec(maps), data)
    assert "relu1 gives" in _sentence(info) and "fc layer of 8 outputs" in _sentence(info)
    probabilities = dict(SMALL, layers=SMALL["layers"] + [{"name": "prob", "kind": "softmax"}])
    with pytest.raises(TrainingError) as info:
        Trainer(Network.from_spec(probabilities), data)
    assert "prob is a softmax" in _sentence(info) and "remove prob" in _sentence(info)


@pytest.mark.parametrize("config, words", [
    (TrainConfig(epochs=0), "epochs must be from 1"),
    (TrainConfig(batch_size=5000), "batch_size must be from 1 to 4096"),
    (TrainConfig(lr=-1.0), "lr must be from"),
    (TrainConfig(weight_decay=0.5), "weight_decay must be from 0 to 0.1"),
    (TrainConfig(optimizer="rmsprop"), "optimizer must be one of sgd, momentum, adam"),
    (TrainConfig(freeze=("conv9",)), "there is no layer 'conv9' to freeze"),
    (TrainConfig(freeze=("conv1", "bn1", "conv2", "fc3", "fc4")), "nothing to train"),
])
def test_bad_settings_are_one_sentence(data, config, words):
    with pytest.raises(TrainingError) as info:
        Trainer(small_net(), data, config)
    assert words in _sentence(info)


def test_training_runs_on_the_cupy_double(data):
    """Weights, BN averages and optimizer state stay on the device; the log matches NumPy's."""
    from convlab.engine.backend import array_module, to_numpy
    from tests.engine import fakecupy

    # MomentumSGD: Adam would turn the float noise of conv1/b's zero gradient (BN follows)
    # into full steps of either sign
    config = TrainConfig(epochs=1, batch_size=32, optimizer="momentum", seed=3, limit=64)
    host = small_net()
    host_trainer = Trainer(host, data, config)
    host_trainer.run()
    with fakecupy.installed() as cp:
        net = Network.from_spec(SMALL, seed=0, xp=cp)
        trainer = Trainer(net, data, config)
        assert trainer.run()
        for layer in net.layers:
            for key, value in layer.params.items():
                assert array_module(value) is cp, f"{layer.name}/{key} left the device"
                np.testing.assert_allclose(to_numpy(value), host[layer.name].params[key],
                                           rtol=1e-3, atol=1e-4)
        assert trainer.log[0]["main/loss"] == pytest.approx(host_trainer.log[0]["main/loss"],
                                                            rel=1e-4)


def test_weights_that_diverge_stop_the_run_in_one_sentence():
    """LeNet with momentum SGD at lr 10 overflows to inf and then NaN within two epochs: the run
    must say so (and how to fix it) instead of training on, and logging, NaN."""
    from convlab.pipelines.datasets import open_dataset

    grey = open_dataset("shapes", input_shape=(1, 28, 28))
    net = Network.from_spec(presets.with_classes(presets.preset("lenet"), len(grey.classes)),
                            seed=0)
    config = TrainConfig(epochs=2, batch_size=32, optimizer="momentum", lr=10.0, seed=0,
                         limit=256)
    trainer = Trainer(net, grey, config)
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # no NumPy warnings
        with pytest.raises(TrainingError) as exc:
            trainer.run()
    message = _sentence(exc)
    assert "lr" in message and "10" in message and "lower" in message
    assert all(np.isfinite(e["main/loss"]) for e in trainer.log)


@pytest.mark.parametrize("field, value", [
    ("epoch", None), ("batch", -1), ("batch", 99), ("iteration", "many"), ("log", 5),
    ("sums", [0.0]), ("optimizer/t", np.zeros(3, np.int64))])
def test_a_snapshot_with_a_bad_position_is_one_sentence(data, tmp_path, field, value):
    """A snapshot of this very run (same spec, data and settings) whose position or step count
    is damaged: TypeError tracebacks (None, a list for a count) or a later failure in the
    batches (a batch past the epoch's end) before; one SnapshotError and nothing changed now."""
    _, trainer, _ = train(data, TrainConfig(**{**CONFIG.__dict__, "epochs": 1}))
    trainer.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz") as f:
        arrays = {k: f[k] for k in f.files}
    if field.startswith("optimizer/"):
        arrays[field] = value
    else:
        meta = json.loads(bytes(arrays["meta"]).decode())
        meta[field] = value
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    other = Trainer(small_net(), data, CONFIG)
    before = weights(other.net)
    with pytest.raises(train_state.SnapshotError) as info:
        other.resume(tmp_path / "bad.npz")
    _sentence(info)
    assert other.at.epoch == 0 and other.log == []
    for k, v in before.items():
        np.testing.assert_array_equal(weights(other.net)[k], v, err_msg=k)


def test_resuming_with_the_default_rate_given_by_value_is_the_same_run(data, tmp_path):
    """`--lr 0.01` on a MomentumSGD run started without --lr is the same rate (Chainer's 0.01):
    it was refused as "the snapshot's run has lr None, not 0.01"."""
    _, trainer, _ = train(data, TrainConfig(**{**CONFIG.__dict__, "epochs": 1}))
    trainer.save(tmp_path / "s.npz")
    same = Trainer(small_net(), data, TrainConfig(**{**CONFIG.__dict__, "epochs": 2, "lr": 0.01}))
    same.resume(tmp_path / "s.npz")
    assert same.at.epoch == 1
    other = Trainer(small_net(), data, TrainConfig(**{**CONFIG.__dict__, "lr": 0.02}))
    with pytest.raises(train_state.SnapshotError, match="lr 0.01, not 0.02"):
        other.resume(tmp_path / "s.npz")


def test_limit_takes_images_of_every_class_from_a_class_sorted_folder():
    """A folder of class folders is read class by class, so --limit N kept the first N images:
    only the first class (a run that "reaches" 100% on one class). The subset is now drawn with
    the run's seed, the same on every run and on resume."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 20)                      # sorted, as folders give them
    images = rng.integers(0, 256, (160, 32, 32, 3), dtype=np.uint8)
    from convlab.pipelines.datasets import Split

    sorted_data = Dataset("pets", CLASSES, Split(images, labels), Split(images[:80], labels[:80]))
    config = TrainConfig(epochs=1, batch_size=16, limit=40, seed=3)
    a = Trainer(small_net(), sorted_data, config)
    assert len(a.train) == 40 and len(set(a.train.labels)) >= 6
    assert len(a.test) == 40 and len(set(a.test.labels)) >= 3
    b = Trainer(small_net(), sorted_data, config)
    np.testing.assert_array_equal(a.train.images, b.train.images)


@pytest.mark.parametrize("empty", ["train", "test"])
def test_an_empty_split_is_refused_before_training(empty):
    """A folder with one or two photos a class leaves the 80/20 split's test side empty: every
    validation entry was NaN (not JSON) and the command printed 'nan%'."""
    from convlab.pipelines.datasets import Split

    rng = np.random.default_rng(0)
    full = Split(rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), np.arange(16) % 8)
    none = Split(full.images[:0], full.labels[:0])
    splits = (none, full) if empty == "train" else (full, none)
    with pytest.raises(TrainingError, match=f"no {empty}") as info:
        Trainer(small_net(), Dataset("pets", CLASSES, *splits), TrainConfig(epochs=1))
    _sentence(info)
