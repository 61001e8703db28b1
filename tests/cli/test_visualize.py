"""``convlab visualize``: every method writes a PNG over the crop with a colour bar and the
command that made it (run again, it makes the same bytes); unit pictures; top patches of a
built-in dataset; every refusal one sentence, exit 2."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from PIL import Image

from convlab.cli import main
from convlab.pipelines import attribution as views

SPEC = {"name": "small", "input_shape": [3, 32, 32], "layers": [
    {"name": "conv1", "kind": "conv", "out_channels": 8, "ksize": 5, "pad": 2},
    {"name": "bn1", "kind": "bn"},
    {"name": "relu1", "kind": "relu"},
    {"name": "pool1", "kind": "pool", "ksize": 2},
    {"name": "conv2", "kind": "conv", "out_channels": 8, "ksize": 3, "pad": 1},
    {"name": "relu2", "kind": "relu"},
    {"name": "fc", "kind": "fc", "out_size": 8}]}


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SPEC))
    return str(path)


def settings_of(png) -> dict:
    return json.loads(Image.open(png).text["convlab:settings"])


@pytest.mark.parametrize("method", list(views.METHODS))
def test_each_method_writes_a_png_with_its_command(tmp_path, spec, method, capsys):
    out = tmp_path / f"{method}.png"
    assert main(["visualize", "--spec", spec, "--input", "32", "--method", method,
                 "--out", str(out)]) == 0
    im = Image.open(out)
    assert im.size == (32 + 4 + views.BAR, 32)
    record = settings_of(out)
    words = shlex.split(record["command"])
    assert words[:2] == ["convlab", "visualize"] and f"--method {method}" in record["command"]
    assert "--class" in record["command"] and record["view"]["colour_bar"][1] > 0
    assert "Wrote" in capsys.readouterr().out


def test_the_recorded_command_makes_the_same_bytes(tmp_path, spec):
    first = tmp_path / "a.png"
    assert main(["visualize", "--spec", spec, "--method", "guided-gradcam", "--class", "3",
                 "--out", str(first)]) == 0
    words = shlex.split(settings_of(first)["command"])
    again = tmp_path / "b.png"
    assert main(["visualize", *[str(again) if w == "FILE.png" else w for w in words[2:]]]) == 0
    assert first.read_bytes() == again.read_bytes()


def test_unit_target_and_scale(tmp_path, spec):
    out = tmp_path / "u.png"
    assert main(["visualize", "--spec", spec, "--method", "saliency", "--unit", "relu2:5",
                 "--scale", "3", "--out", str(out)]) == 0
    assert settings_of(out)["view"]["target"] == ["relu2", 5]
    assert "--scale 3" in settings_of(out)["command"]
    assert Image.open(out).size == (3 * (32 + 4 + views.BAR), 3 * 32)


def test_features_grid(tmp_path, spec):
    assert main(["visualize", "--spec", spec, "--features", "conv2", "--channels", "3",
                 "--steps", "4", "--out", str(tmp_path / "f")]) == 0
    png = tmp_path / "f" / "features_conv2.png"
    record = settings_of(png)
    assert record["view"]["channels"] == [0, 1, 2]
    assert "--features conv2" in record["command"] and "IMAGE" not in record["command"]
    assert np.asarray(Image.open(png)).std() > 0


def test_top_patches_of_a_builtin_dataset(tmp_path, spec):
    assert main(["visualize", "--spec", spec, "--top-patches", "relu2:1", "--data",
                 "shapes-rgb", "--limit", "40", "--k", "5", "--out", str(tmp_path / "p")]) == 0
    listed = json.loads((tmp_path / "p" / "top_patches_relu2_1.json").read_text())["patches"]
    values = [p["value"] for p in listed]
    assert len(listed) == 5 and values == sorted(values, reverse=True)
    assert all(0 <= p["image"] < 40 for p in listed)
    assert (tmp_path / "p" / "top_patches_relu2_1.png").is_file()


@pytest.mark.parametrize("argv, words", [
    (["--method", "saliency"], "choose a network"),
    (["--spec", "S", "--features", "conv1", "--class", "2"], "--class applies to --method"),
    (["--spec", "S", "--top-patches", "conv1:0"], "needs --data"),
    (["--spec", "S", "--method", "saliency", "--layer", "conv1"], "--layer applies"),
    (["--spec", "S", "--method", "saliency", "--unit", "conv1"], "LAYER:CHANNEL"),
    (["--spec", "S", "--method", "saliency", "--unit", "conv9:0"], "not a layer"),
    (["--spec", "S", "--method", "gradcam", "--class", "99"], "classes 0 to 7"),
    (["--spec", "S", "--features", "nope"], "not a layer"),
    (["--spec", "S", "--top-patches", "fc:0", "--data", "no-such-data"], ""),
    (["--spec", "S", "--method", "saliency", "--features", "conv1"], "not allowed with"),
    (["--spec", "S", "--method", "saliency", "--scale", "0"], "--scale must be"),
])
def test_refusals_are_one_line_exit_2(tmp_path, spec, capsys, argv, words):
    argv = [spec if w == "S" else w for w in argv]
    try:
        code = main(["visualize", *argv, "--out", str(tmp_path / "x.png")])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert words in err[-1] and "Traceback" not in "".join(err)
    assert not (tmp_path / "x.png").exists()
