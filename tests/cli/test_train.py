"""``convlab train`` for real on a tiny setting (LeNet, 64 images a split): its files, a
resumed run equal to an uninterrupted one, Ctrl+C (a real SIGINT the process sends itself at a
chosen batch, so nothing depends on timing), the weights opening in ``convlab export``, and
one-sentence refusals with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from convlab.cli import main

TINY = ["--net", "lenet", "--limit", "64", "--batch", "32", "--quiet"]
KEYS = ["epoch", "iteration", "main/loss", "main/accuracy", "validation/main/loss",
        "validation/main/accuracy", "elapsed_time"]
SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "samples", "chelsea.jpg")


def arrays(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def assert_same_weights(a, b):
    wa, wb = arrays(a), arrays(b)
    assert sorted(wa) == sorted(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    assert main(["train", *TINY, "--epochs", "2", "--out", str(out)]) == 0
    return out


def test_train_writes_weights_log_network_and_snapshot(two_epochs, capsys):
    names = sorted(p.name for p in two_epochs.iterdir())
    assert names == ["log.json", "network.json", "snapshot.npz", "weights.npz"]
    log = json.loads((two_epochs / "log.json").read_text())
    assert [list(e) for e in log] == [KEYS, KEYS] and [e["iteration"] for e in log] == [2, 4]
    assert "fc4/W" in arrays(two_epochs / "weights.npz")
    spec = json.loads((two_epochs / "network.json").read_text())
    assert spec["layers"][-1]["out_size"] == 8          # the built-in shapes' 8 classes


def test_epoch_lines_and_the_summary(tmp_path, capsys):
    assert main(["train", *TINY, "--epochs", "1", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "Training lenet" in out and "on shapes: 64 training and 64 test images" in out
    assert "epoch 1/1: train loss" in out and "images/s" in out and "Test accuracy" in out


def test_the_weights_open_in_convlab_export(two_epochs, tmp_path):
    code = main(["export", SAMPLE, "--spec", str(two_epochs / "network.json"), "--weights",
                 str(two_epochs / "weights.npz"), "--out", str(tmp_path / "maps"),
                 "--layers", "conv1"])
    assert code == 0 and (tmp_path / "maps" / "conv1_grid.png").exists()


def test_resume_ends_with_the_weights_of_an_uninterrupted_run(two_epochs, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out)]) == 0
    assert main(["train", "--resume", "--epochs", "2", "--quiet", "--out", str(out)]) == 0
    assert "Resuming at epoch 2" in capsys.readouterr().out
    assert_same_weights(out / "weights.npz", two_epochs / "weights.npz")
    strip = lambda log: [{k: v for k, v in e.items() if k != "elapsed_time"} for e in log]  # noqa
    assert strip(json.loads((out / "log.json").read_text())) == strip(
        json.loads((two_epochs / "log.json").read_text()))
    assert main(["train", "--resume", "--quiet", "--out", str(out)]) == 0  # its own 2: done
    assert "already did its 2 epochs" in capsys.readouterr().out


# Sends SIGINT to this process as Trainer.step is called for the N-th time, once per N in ``at``.
HOOK = """
import os, signal, time
from convlab.pipelines import training
_real, _calls = training.Trainer.step, []
def _step(self, *args, **kwargs):
    _calls.append(1)
    for _ in range({at!r}.count(len(_calls))):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here
    return _real(self, *args, **kwargs)
training.Trainer.step = _step
"""


def _run(argv, at, tmp_path):
    script = HOOK.format(at=tuple(at)) + textwrap.dedent(f"""
        import sys
        from convlab.cli import main
        sys.exit(main({argv!r}))
        """)
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)


def test_ctrl_c_saves_the_snapshot_and_resume_finishes_the_same_run(two_epochs, tmp_path):
    out = str(tmp_path / "r")
    proc = _run(["train", *TINY, "--epochs", "2", "--out", out], at=[3], tmp_path=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"the run is saved in {os.path.join(out, 'snapshot.npz')}" in proc.stderr
    assert "interrupted in epoch 2 after 1 batches" in proc.stderr
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    assert main(["train", "--resume", "--quiet", "--out", out]) == 0
    assert_same_weights(os.path.join(out, "weights.npz"), two_epochs / "weights.npz")


def test_a_second_ctrl_c_stops_at_once_and_leaves_whole_files(tmp_path):
    out = str(tmp_path / "r")
    proc = _run(["train", *TINY, "--epochs", "3", "--out", out], at=[3, 3], tmp_path=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "last finished epoch" in proc.stderr
    assert sorted(os.listdir(out)) == ["log.json", "network.json", "snapshot.npz", "weights.npz"]
    assert len(json.loads(open(os.path.join(out, "log.json")).read())) == 1
    assert main(["train", "--resume", "--quiet", "--out", out]) == 0


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "0"], "--epochs must be from 1 to 10000, not 0."),
    (["--batch", "5000"], "--batch must be from 1 to 4096"),
    (["--lr", "100"], "--lr must be from 1e-08 to 10"),
    (["--weight-decay", "0.5"], "--weight-decay must be from 0 to 0.1"),
    (["--seed", "-1"], "--seed must be from 0 to"),
    (["--limit", "0"], "--limit must be from 1"),
    (["--freeze", "conv9"], "there is no layer 'conv9' to freeze"),
    (["--data", "/nonexistent/folder"], "neither a folder nor a dataset name"),
    (["--resume"], "there is no snapshot at"),
])
def test_bad_values_are_one_sentence_and_exit_2(tmp_path, capsys, argv, words):
    code = main(["train", *TINY, "--out", str(tmp_path / "r"), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_a_network_is_required_and_a_finished_run_is_not_overwritten(two_epochs, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path)]) == 2
    assert "say which network to train" in capsys.readouterr().err
    assert main(["train", *TINY, "--out", str(two_epochs)]) == 2
    assert "already holds a training run" in capsys.readouterr().err


def test_a_spec_whose_classes_do_not_fit_is_refused(tmp_path, capsys):
    from convlab.engine.nets import presets

    (tmp_path / "lenet10.json").write_text(json.dumps(presets.preset("lenet")))
    code = main(["train", "--spec", str(tmp_path / "lenet10.json"), "--limit", "64", "--quiet",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "fc4 gives 10 scores but shapes has 8 classes; set fc4's out_size to 8" in err


def test_shapes_lists_the_trainable_presets_at_their_own_size(capsys):
    assert main(["shapes", "--net", "lenet"]) == 0
    out = capsys.readouterr().out
    assert "lenet at 28x28" in out and "1x28x28" in out and "431,080" in out
    assert main(["shapes", "--net", "cifar-small"]) == 0
    assert "114,186" in capsys.readouterr().out


def test_a_folder_of_photos_trains_end_to_end(tmp_path, capsys):
    """Class folders of real photos, resized to the colour preset's 32 x 32 input."""
    import shutil

    samples = os.path.dirname(SAMPLE)
    for cls, names in (("animal", ["chelsea.jpg", "coffee.jpg"]),
                       ("thing", ["rocket.jpg", "astronaut.jpg"])):
        (tmp_path / "photos" / cls).mkdir(parents=True)
        for i in range(3):
            for name in names:
                shutil.copy(os.path.join(samples, name), tmp_path / "photos" / cls / f"{i}{name}")
    code = main(["train", "--net", "cifar-small", "--data", str(tmp_path / "photos"),
                 "--epochs", "1", "--batch", "4", "--quiet", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0 and "3 x 32 x 32, 2 classes" in out and "fc4 gives 2 scores" in out
    assert json.loads((tmp_path / "r" / "log.json").read_text())[0]["epoch"] == 1
