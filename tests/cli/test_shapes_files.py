"""``convlab shapes --spec FILE.json`` and ``--model FILE.onnx``: the same table as ``--net``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from convlab.cli import main
from convlab.engine.nets import build_network

TINY = {"name": "tiny", "input_shape": [3, 32, 32], "layers": [
    {"name": "c1", "kind": "conv", "out_channels": 8, "ksize": 3, "pad": 1},
    {"name": "r1", "kind": "relu"},
    {"name": "p1", "kind": "pool", "ksize": 2},
    {"name": "fc", "kind": "fc", "out_size": 10}]}


def write_spec(folder: Path, spec, name: str = "net.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def light_model(name: str) -> Path:
    onnx = pytest.importorskip("onnx")
    path = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{name}.onnx"
    if not path.is_file():
        pytest.skip(f"this onnx wheel has no {path.name}")
    return path


def test_a_small_spec_prints_its_table(tmp_path, capsys):
    assert main(["shapes", "--spec", str(write_spec(tmp_path, TINY))]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("tiny (") and lines[0].endswith("at 32x32")
    # c1: 8 x 3 x 3 x 3 + 8 = 224 params; 8 x 32 x 32 x 27 = 221,184 mult-adds
    c1 = next(line for line in lines if line.startswith("c1"))
    assert "8x32x32" in c1 and "224" in c1 and "221,184" in c1 and "3 / 1" in c1
    p1 = next(line for line in lines if line.startswith("p1"))
    assert "8x16x16" in p1 and "4 / 2" in p1
    # fc: 2048 -> 10 = 20,490 params
    assert "Total params: 20,714" in out and "inputs" not in lines[1]


def test_alexbn_from_its_own_spec_matches_net_alexbn(tmp_path, capsys):
    spec = build_network("alexbn", init=False).to_spec()
    assert main(["shapes", "--spec", str(write_spec(tmp_path, spec, "alexbn.json"))]) == 0
    from_spec = capsys.readouterr().out.splitlines()
    assert main(["shapes", "--net", "alexbn"]) == 0
    from_net = capsys.readouterr().out.splitlines()
    assert "Total params: 62,379,048" in from_spec[-1]
    assert from_spec[1:] == from_net[1:]  # every row and the totals; only the title differs


def test_alex2g_is_a_net_with_half_the_grouped_weights(capsys):
    assert main(["shapes", "--net", "alex2g"]) == 0
    grouped = capsys.readouterr().out
    assert main(["shapes", "--net", "alex"]) == 0
    plain = capsys.readouterr().out
    conv2 = lambda out: next(line for line in out.splitlines() if line.startswith("conv2"))  # noqa: E731
    # conv2: 256 x 96 x 25 + 256 = 614,656 weights; with 2 groups 256 x 48 x 25 + 256 = 307,456
    assert "614,656" in conv2(plain) and "307,456" in conv2(grouped)


def test_input_overrides_the_spec_size_and_a_failing_size_exits_1(tmp_path, capsys):
    path = str(write_spec(tmp_path, TINY))
    assert main(["shapes", "--spec", path, "--input", "64"]) == 1  # fc was built for 32x32
    out = capsys.readouterr().out
    assert "at 64x64" in out and "The input does not pass: fc" in out


def test_a_spec_whose_own_input_fails_exits_2_naming_the_layer(tmp_path, capsys):
    spec = {"input_shape": [3, 8, 8], "layers": [
        {"name": "c1", "kind": "conv", "out_channels": 8, "ksize": 3},
        {"name": "c2", "kind": "conv", "out_channels": 8, "ksize": 9}]}
    assert main(["shapes", "--spec", str(write_spec(tmp_path, spec))]) == 2
    assert "The input does not pass: c2:" in capsys.readouterr().out


BAD_SPECS = [
    ({"layers": [{"name": "c1", "kind": "convo", "ksize": 3}]}, "Layer 1 ('c1'): unknown kind 'convo'"),
    ({"layers": [{"name": "r", "kind": "relu"}, {"name": "c2", "kind": "conv", "ksize": 3}]},
     "Layer 2 ('c2'): missing argument 'out_channels'"),
    ({"layers": [{"name": "c1", "kind": "conv", "out_channels": "8", "ksize": 3}]},
     "Layer 1 ('c1'): out_channels must be an integer"),
    ({"layers": [{"name": "c1", "kind": "conv", "out_channels": 8, "ksize": 3, "inputs": ["zz"]}]},
     "Layer 1 ('c1'): input 'zz'"),
    ({"layers": [{"name": "c1", "kind": "conv", "out_channels": 10 ** 5, "in_channels": 10 ** 5,
                  "ksize": 15}]}, "Layer 1 ('c1') would hold 2,250,000,100,000 parameters"),
]


@pytest.mark.parametrize("spec, words", BAD_SPECS)
def test_a_bad_spec_is_one_sentence_naming_the_layer(tmp_path, capsys, spec, words):
    assert main(["shapes", "--spec", str(write_spec(tmp_path, spec))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("convlab shapes: net.json: ") and words in captured.err
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, words", [
    (b"[[[[", "is not valid JSON: Expecting value at line 1, column 5"),
    (b"\xff\xfe\x00", "is not a text file"),
    (b"42", "holds a JSON int, not a network spec"),
    (b"[" * 100_000, "nests its JSON too deeply"),
])
def test_a_file_that_is_not_a_spec_is_refused(tmp_path, capsys, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert main(["shapes", "--spec", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_in_a_spec_file_are_refused(tmp_path, capsys, literal):
    """Issue 20, case 12: ``"eps": NaN`` was accepted (Python's json reads it; JSON has none)."""
    path = tmp_path / "net.json"
    path.write_text('{"layers": [{"name": "b", "kind": "bn", "eps": %s}]}' % literal)
    assert main(["shapes", "--spec", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{literal} is not a number a spec may hold" in err and len(err.strip().splitlines()) == 1


def test_a_spec_of_too_many_layers_is_one_sentence_and_exit_2(tmp_path, capsys):
    spec = {"layers": [{"name": f"r{i}", "kind": "relu"} for i in range(20_000)]}
    assert main(["shapes", "--spec", str(write_spec(tmp_path, spec))]) == 2
    assert "A spec may have at most 10,000 layers; this one has 20,000." in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_is_refused_without_waiting(tmp_path, capsys):
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)  # nobody writes: an open() for reading would wait forever
    assert main(["shapes", "--spec", str(fifo)]) == 2
    assert "is a named pipe, not a network spec file" in capsys.readouterr().err


def test_net_spec_and_model_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["shapes", "--net", "alex", "--spec", str(write_spec(tmp_path, TINY))])
    assert info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_light_onnx_model_prints_its_nodes_with_their_inputs(capsys):
    path = light_model("squeezenet")
    assert main(["shapes", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].endswith("at 224x224") and "inputs" in lines[1]
    concat = next(line for line in lines if " concat " in line)  # a fire module joins two paths
    assert ", " in concat.split("concat")[1]
    # SqueezeNet 1.1 (conv1 3->64 k3 s2) holds 1,235,496 parameters, as torchvision's
    # squeezenet1_1 (1.0 has 1,248,424); the light file makes its weights with ConstantOfShape
    assert "Total params: 1,235,496" in out


def test_without_the_onnx_package_model_says_how_to_install(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert main(["shapes", "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert 'pip install "convlab[onnx]"' in err and len(err.strip().splitlines()) == 1


def test_an_unsupported_operator_names_the_node(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    node = helper.make_node("Hardmax", ["x"], ["y"], name="strange_node")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]))
    path = tmp_path / "hardmax.onnx"
    onnx.save(model, str(path))
    assert main(["shapes", "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Hardmax" in err and "strange_node" in err and len(err.strip().splitlines()) == 1


def test_a_truncated_model_is_one_sentence(tmp_path, capsys):
    data = light_model("squeezenet").read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 3])
    assert main(["shapes", "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cut.onnx" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
