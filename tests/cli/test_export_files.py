"""``convlab export --spec FILE.json`` and ``--model FILE.onnx``: the maps of any network, and
bad files refused with one sentence naming the layer, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from convlab.cli import main
from tests.cli.test_shapes_files import TINY, light_model, write_spec

GRAPH = {"name": "fork", "input_shape": [3, 24, 24], "layers": [
    {"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
    {"name": "left", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
    {"name": "right", "kind": "relu", "inputs": ["c1"]},
    {"name": "sum", "kind": "add", "inputs": ["left", "right"]},
    {"name": "pool", "kind": "pool", "ksize": 2}]}


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def pngs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def run_recorded(folder: Path, out: Path) -> int:
    """The command ``folder``'s manifest records, run again into ``out``."""
    words = shlex.split(manifest(folder)["settings"]["command"])
    assert words[:2] == ["convlab", "export"]
    return main(["export", *[str(out) if w == "DIR" else w for w in words[2:]], "--quiet"])


def test_export_spec_writes_every_layer_and_records_the_file(tmp_path):
    spec = write_spec(tmp_path, TINY)
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--spec", str(spec), "--quiet"]) == 0
    assert {p.name for p in out.glob("*_grid.png")} == {f"{n}_grid.png" for n in ("c1", "r1", "p1", "fc")}
    assert len(list((out / "c1").glob("*.png"))) == 8
    settings = manifest(out)["settings"]
    assert settings["net"] == "custom" and settings["spec"]["name"] == "tiny"
    assert settings["spec_file"]["path"] == str(spec.absolute())
    assert f"--spec {spec.absolute()}" in settings["command"] and "--input 32" in settings["command"]
    again = tmp_path / "again"
    assert run_recorded(out, again) == 0 and pngs(again) == pngs(out)


def test_layers_name_the_nodes_of_a_graph_spec(tmp_path, capsys):
    out = tmp_path / "maps"
    argv = ["export", "--out", str(out), "--spec", str(write_spec(tmp_path, GRAPH)), "--npy",
            "--no-maps", "--quiet"]
    assert main(argv + ["--layers", "right,sum"]) == 0
    right, total = np.load(out / "right.npy"), np.load(out / "sum.npy")  # (4, 24, 24) each
    assert right.shape == total.shape == (4, 24, 24)
    assert (right >= 0).all() and not np.allclose(total, right)
    with pytest.raises(SystemExit) as info:
        main(argv + ["--layers", "nowhere"])
    assert info.value.code == 2 and "left" in capsys.readouterr().err  # the valid names listed


BAD = [
    ({"layers": [{"name": "c1", "kind": "convo", "ksize": 3}]}, "Layer 1 ('c1'): unknown kind"),
    ({"layers": [{"name": "c1", "kind": "conv", "ksize": 3}]}, "Layer 1 ('c1'): missing argument"),
    ({"layers": [{"name": "r", "kind": "relu"}, {"name": "c2", "kind": "conv", "out_channels": 2,
                                                  "ksize": [3, 3, 3]}]}, "Layer 2 ('c2'): ksize"),
    ({"input_shape": [3, 8, 8], "layers": [{"name": "c1", "kind": "conv", "out_channels": 2,
                                            "ksize": 3},
                                           {"name": "big", "kind": "conv", "out_channels": 2,
                                            "ksize": 9}]}, "at 8x8 pixels, big:"),
]


@pytest.mark.parametrize("spec, words", BAD)
def test_a_bad_spec_writes_nothing_and_names_the_layer(tmp_path, capsys, spec, words):
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--spec", str(write_spec(tmp_path, spec))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convlab export: net.json") and words in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_bad_spec_leaves_an_existing_folder_as_it_was(tmp_path):
    out = tmp_path / "maps"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    spec = write_spec(tmp_path, BAD[0][0])
    assert main(["export", "--out", str(out), "--spec", str(spec), "--quiet"]) == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_as_spec_or_model_is_refused_without_waiting(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["export", "--out", str(tmp_path / "a"), "--spec", str(fifo)]) == 2
    assert "is a named pipe, not a network spec file" in capsys.readouterr().err
    pytest.importorskip("onnx")
    assert main(["export", "--out", str(tmp_path / "b"), "--model", str(fifo)]) == 2
    assert "is a named pipe, not an ONNX model file" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("argv, words", [
    (["--model", "m.onnx", "--weights", "w.npz"], "--weights does not apply to --model"),
    (["--model", "m.onnx", "--input", "100"], "--input does not apply to --model"),
    (["--net", "alex", "--preprocess", "unit"], "--preprocess applies to --model only"),
    (["--labels", "l.txt"], "--labels needs a network"),
    (["--conv1", "learned"], "--conv1 needs a network"),
    (["--spec", "a.json", "--kernel", "5"], "--kernel sets the explorer pipeline; it does not apply with --spec"),
    (["--spec", "a.json", "--net", "alex"], "not allowed with argument"),
])
def test_flags_that_do_not_fit_are_usage_errors(tmp_path, capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", str(tmp_path / "o"), *argv])
    assert info.value.code == 2 and words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_conv1_learned_on_a_spec_reproduces_from_its_command(tmp_path):
    spec = write_spec(tmp_path, {**TINY, "layers": [{**TINY["layers"][0], "ksize": 4}] + TINY["layers"][1:]})
    out, again = tmp_path / "maps", tmp_path / "again"
    assert main(["export", "--out", str(out), "--spec", str(spec), "--conv1", "learned",
                 "--layers", "c1", "--quiet"]) == 0
    settings = manifest(out)["settings"]
    assert "--conv1 learned" in settings["command"] and settings["conv1"] == "learned"
    assert "learned" in settings["weights"]["source"]
    assert run_recorded(out, again) == 0
    assert pngs(out).items() <= pngs(again).items()  # the rerun writes every layer


def test_export_a_light_onnx_model_with_a_preset_and_labels(tmp_path, capsys):
    model = light_model("squeezenet")
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"thing {i}" for i in range(1000)) + "\n")
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--model", str(model), "--layers", "n0,n9",
                 "--preprocess", "chainer", "--labels", str(labels), "--no-maps"]) == 0
    assert {p.name for p in out.glob("*.png")} == {"n0_grid.png", "n9_grid.png"}
    settings = manifest(out)["settings"]
    top = [line for line in capsys.readouterr().out.splitlines() if "top-" in line]
    assert len(top) == 5 and top[0].startswith("  top-1: thing ")  # the labels name the classes
    assert settings["net"] == "onnx" and settings["preprocess"]["preset"] == "chainer"
    assert settings["model"]["path"] == str(model) and len(settings["model"]["sha256"]) == 64
    assert settings["model"]["preprocess"] == "chainer"
    assert settings["bn_mode"] in (None, "stored")  # a trained model: its BN averages
    assert settings["model"]["labels"] == str(labels.absolute())
    words = shlex.split(settings["command"])
    assert words[words.index("--model") + 1] == str(model)
    assert words[words.index("--labels") + 1] == str(labels.absolute())
    again = tmp_path / "again"
    assert run_recorded(out, again) == 0
    assert pngs(out).items() <= pngs(again).items()


@pytest.mark.parametrize("beside", ["binary", "huge"])
def test_a_labels_file_beside_the_model_that_is_not_usable_is_ignored_with_a_note(tmp_path, capsys,
                                                                                   beside):
    """Issue 20, "Also": a large or binary <model>.txt beside an ONNX model made export fail,
    though the user never named it; it is ignored, with a note, and the classes are numbered."""
    import shutil

    model = tmp_path / "squeezenet.onnx"
    shutil.copyfile(light_model("squeezenet"), model)
    with open(tmp_path / "squeezenet.txt", "wb") as fh:
        if beside == "binary":
            fh.write(bytes(range(256)) * 8)
        else:
            fh.truncate(1 << 30)                               # sparse: 1 GiB to a reader
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--model", str(model), "--layers", "n0",
                 "--no-maps"]) == 0
    captured = capsys.readouterr()
    assert "squeezenet.txt" in captured.err and "it is ignored and the classes are numbered" in captured.err
    top = [line for line in captured.out.splitlines() if "top-" in line]
    assert len(top) == 5 and "class " in top[0]
    assert manifest(out)["settings"]["model"]["labels"] is None


def test_outputs_over_budget_at_the_run_size_are_refused_before_any_is_made(tmp_path):
    """Issue 20, "Also" (activation budget): a spec fine at its own input size can be asked to
    run at --input 4096, where its outputs would take 4.5 GB; under a 1.5 GiB address space
    the refusal must be the budget's sentence and exit 2, not "out of memory"."""
    import os
    import subprocess
    import sys

    spec = write_spec(tmp_path, {"input_shape": [3, 64, 64], "layers": [
        {"name": "c", "kind": "conv", "out_channels": 64, "ksize": 1}]})
    limit = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29)); "
             "sys.argv = ['convlab'] + sys.argv[1:]; runpy.run_module('convlab', run_name='__main__')")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", limit, "export", "--out", str(tmp_path / "maps"),
                           "--spec", str(spec), "--input", "4096"], capture_output=True, text=True,
                          timeout=300, cwd=root)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "At the input size 3x4096x4096 the layer outputs would take 4.50 GB; a run's outputs " \
           "may take at most 2.15 GB" in done.stderr
    assert not (tmp_path / "maps").exists()


def test_an_unusable_model_is_one_sentence_and_nothing_written(tmp_path, capsys):
    pytest.importorskip("onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf at all" * 10)
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--model", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "junk.onnx" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_without_the_onnx_package_export_model_says_how_to_install(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert main(["export", "--out", str(tmp_path / "o"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert 'pip install "convlab[onnx]"' in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_spec_edited_in_the_window_is_recorded_whole(tmp_path):
    """No spec file (the window's edited stack): the record holds the spec, to be saved as the
    SPEC.json its command names; the other flags follow the settings."""
    from convlab.pipelines import records

    image = {"path": str(tmp_path / "p.jpg"), "name": "p.jpg", "size": [4, 4]}
    rec = records.network_settings_record("custom", image, spec=TINY, insize=32, seed=2,
                                          conv1="learned", bn_mode=None)
    assert rec["spec"] == TINY and "spec_file" not in rec
    assert rec["command"].endswith("--out DIR --spec SPEC.json --input 32 --seed 2 --conv1 learned")
    preset = records.network_settings_record("alex2g", image, bn_mode=None)
    assert preset["command"].endswith("--out DIR --net alex2g") and preset["conv1"] == "random"


def test_a_model_reaching_outside_its_folder_is_refused_and_nothing_written(tmp_path, capsys):
    pytest.importorskip("onnx")
    from tests.models.test_onnx_hostile import conv_model, external, save

    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    path = save(external(conv_model(), "W", "../secret.bin"), folder / "m.onnx")
    out = tmp_path / "maps"
    assert main(["export", "--out", str(out), "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "outside the model's folder" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["shapes", "--model", str(path)]) == 2
    assert "outside the model's folder" in capsys.readouterr().err
