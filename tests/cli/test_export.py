"""``convlab export`` on a real bundled photo: files, manifest, and one-line failures."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from convlab.pipelines import images as imaging
from convlab.cli import main
from convlab.pipelines.samples import default_sample, list_samples


def run(argv):
    return main(["export", *argv])


def exit_code(argv) -> int:
    try:
        return run(argv)
    except SystemExit as exc:
        return exc.code


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_explorer_defaults_on_a_bundled_photo(tmp_path, capsys):
    photo = default_sample()
    assert run([str(photo), "--out", str(tmp_path)]) == 0
    assert "Wrote 389 files" in capsys.readouterr().out
    for stage, size in [("conv", 126), ("bn", 126), ("relu", 126), ("pool", 63)]:
        maps = sorted(p.name for p in (tmp_path / stage).iterdir())
        assert maps == [f"map_{i:03d}.png" for i in range(96)]
        with Image.open(tmp_path / stage / "map_095.png") as im:
            assert im.size == (size, size)
        assert (tmp_path / f"{stage}_grid.png").is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    s = manifest["settings"]
    assert s["pipeline"] == "explorer" and s["explorer"]["kernel"] == 11 and s["explorer"]["filters"] == 96
    assert s["image"]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert s["image"]["size"] == [512, 512] and s["preprocess"]["input_size"] == [512, 512]
    assert len(manifest["files"]) == 4 * 97
    relu = next(L for L in manifest["layers"] if L["name"] == "relu")
    assert relu["stats"]["min"] == 0 and relu["stats"]["zero_fraction"] > 0.2


def test_explorer_flags_reach_the_pipeline(tmp_path, capsys):
    photo = list_samples()[1]  # chelsea, 451 x 300 -> stays, smaller than 512
    argv = [str(photo), "--out", str(tmp_path), "--kernel", "3", "--stride", "2", "--padding", "1",
            "--filters", "8", "--pool", "1", "--no-bn", "--grayscale", "--bank", "edges",
            "--layers", "relu", "--npy", "--quiet"]
    assert run(argv) == 0
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "relu", "relu.npy", "relu_grid.png"]
    values = np.load(tmp_path / "relu.npy")
    assert values.shape == (8, 150, 226) and values.min() >= 0     # (300 + 2 - 3) // 2 + 1 = 150
    s = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert s["explorer"]["grayscale"] and not s["explorer"]["batch_norm"]
    assert "--kernel 3" in s["command"] and "--no-bn" in s["command"]


def test_network_layers(tmp_path):
    assert run([str(default_sample()), "--out", str(tmp_path), "--net", "alexbn",
                "--layers", "conv1,pool5", "--quiet"]) == 0
    assert len(list((tmp_path / "conv1").iterdir())) == 96
    assert len(list((tmp_path / "pool5").iterdir())) == 256
    with Image.open(tmp_path / "conv1" / "map_000.png") as im:
        assert im.size == (55, 55)
        settings = json.loads(im.text["convlab:settings"])
    assert settings["net"] == "alexbn" and settings["bn_mode"] == "batch"
    assert settings["preprocess"]["crop"] == 227 and len(settings["preprocess"]["crop_box"]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv1", "conv1_grid.png", "manifest.json",
                                                          "pool5", "pool5_grid.png"]


@pytest.mark.parametrize("argv, words", [
    (["--kernel", "99"], "kernel must be an integer from 1 to 15"),
    (["--pool", "2", "--pool-stride", "3"], "pool stride 3 is larger"),
    (["--cmap", "no-such-map"], "unknown colormap"),
    (["--normalize", "fixed:3,1"], "LO < HI"),
    (["--net", "alexbn", "--kernel", "3"], "does not apply with --net"),
    (["--bogus"], "unrecognized arguments"),
    (["--net", "alex", "--bn-mode", "stored"], "--net alex: it has no BatchNormalization layers"),
    (["--layers", ""], "--layers needs at least one layer name"),
    (["--net", "alexbn", "--layers", " , "], "--layers needs at least one layer name"),
])
def test_bad_flags_exit_2(tmp_path, capsys, argv, words):
    assert exit_code([str(default_sample()), "--out", str(tmp_path / "o"), *argv]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_empty_out_is_refused(capsys):
    assert exit_code(["--out", ""]) == 2
    assert "--out needs a folder name" in capsys.readouterr().err


def test_scale_64_on_a_small_layer_and_display_colormap_names(tmp_path):
    argv = ["--out", str(tmp_path), "--longest", "8", "--kernel", "3", "--stride", "1", "--filters", "2",
            "--pool", "1", "--layers", "conv", "--scale", "64", "--cmap", "grey", "--quiet"]
    assert run(argv) == 0
    for name in ("map_000.png", "map_001.png"):
        with Image.open(tmp_path / "conv" / name) as im:   # the 8 x 8 photo -> 6 x 6 maps, x 64
            assert im.size == (6 * 64, 6 * 64)
    with Image.open(tmp_path / "conv_grid.png") as im:
        assert im.size == (2 * 6 * 64 + 1, 6 * 64)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["render"]["colormap"] == "gray" and manifest["render"]["scale"] == 64


def test_cmap_names_print_nothing_else(tmp_path):
    """cmap logs an alias warning for "RdBu_r" on stderr; the command line stays silent."""
    proc = subprocess.run([sys.executable, "-m", "convlab", "export", "--out", str(tmp_path), "--longest", "8",
                           "--kernel", "3", "--filters", "1", "--pool", "1", "--layers", "conv",
                           "--cmap", "RdBu_r", "--quiet"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == ""


def test_out_of_memory_says_so(tmp_path, capsys, monkeypatch):
    def no_memory(*a, **k):
        raise MemoryError()   # what Pillow raises, with no message, when a resize cannot be allocated
    monkeypatch.setattr(imaging, "center_crop_imagenet", no_memory)
    assert exit_code(["--out", str(tmp_path / "o"), "--net", "alexbn", "--layers", "conv1"]) == 1
    assert one_line(capsys.readouterr().err) == "convlab export: failed: out of memory"


def test_unknown_layer_is_one_line_listing_valid_names(tmp_path, capsys):
    assert exit_code(["--out", str(tmp_path / "o"), "--net", "alexbn", "--layers", "conv9"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "unknown layer 'conv9'" in line and "conv1, bn1, relu1, pool1" in line and "fc8" in line


def test_failures_are_one_line_and_exit_1(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert exit_code([str(text), "--out", str(tmp_path / "o")]) == 1
    assert "is not an image" in one_line(capsys.readouterr().err)
    assert exit_code(["--out", str(text / "o")]) == 1
    assert "is a file, not a folder" in one_line(capsys.readouterr().err)
    bad = tmp_path / "w.npz"
    np.savez(bad, nothing=np.zeros(3))
    assert exit_code(["--out", str(tmp_path / "o"), "--net", "alexbn", "--weights", str(bad)]) == 1
    assert "cannot load weights" in one_line(capsys.readouterr().err)
    assert exit_code(["--out", str(tmp_path / "o"), "--longest", "8", "--kernel", "15"]) == 1
    assert "no output" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_a_real_process_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "convlab", "export", str(tmp_path / "missing.jpg"),
                           "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert one_line(proc.stderr) == f"convlab export: cannot open the image: {tmp_path / 'missing.jpg'} does not exist."


def test_a_network_without_batch_norm_records_no_bn_mode(tmp_path):
    assert exit_code(["--out", str(tmp_path), "--net", "alex", "--layers", "norm1", "--no-maps",
                      "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "norm1_grid.png"]
    settings = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert settings["bn_mode"] is None and "--bn-mode" not in settings["command"]  # Alex has no BN
