"""The explorer's transposed, grouped and "same" modes on the command line, recorded so that the
recorded command makes the same PNGs again."""

from __future__ import annotations

import json
import shlex

import pytest

from convlab.cli import main


def rerun_recorded(first, again) -> None:
    command = json.loads((first / "manifest.json").read_text())["settings"]["command"]
    words = shlex.split(command)
    assert main(["export", *[str(again) if w == "DIR" else w for w in words[2:]], "-q"]) == 0


def pngs(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


@pytest.mark.parametrize("flags, conv_shape", [
    (["--same", "--kernel", "10", "--stride", "1"], [6, 48, 48]),        # even kernel keeps 48
    (["--transposed", "--kernel", "4", "--stride", "2"], [6, 98, 98]),   # (48 - 1) 2 + 4
    (["--groups", "3", "--kernel", "3", "--stride", "1"], [6, 46, 46]),  # 48 - 3 + 1
])
def test_modes_reach_the_pipeline_and_reproduce(tmp_path, flags, conv_shape):
    first, again = tmp_path / "first", tmp_path / "again"
    filters = ["--filters", "6"]
    assert main(["export", "--out", str(first), "--longest", "48", "--pool", "1", *filters,
                 *flags, "-q"]) == 0
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["layers"][0]["name"] == "conv" and manifest["layers"][0]["shape"] == conv_shape
    assert flags[0] in manifest["settings"]["command"]
    rerun_recorded(first, again)
    assert pngs(first) == pngs(again)


def test_same_and_transposed_together_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", str(tmp_path / "o"), "--same", "--transposed"])
    assert info.value.code == 2 and "--same does not apply with --transposed" in capsys.readouterr().err


def test_pool_mode_avg_reaches_the_pipeline_is_recorded_and_reproduces(tmp_path):
    import numpy as np

    from convlab.engine import ops

    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["export", "--out", str(first), "--longest", "48", "--filters", "4", "--kernel",
                 "3", "--stride", "1", "--pool", "3", "--pool-stride", "2", "--pool-mode", "avg",
                 "--npy", "-q"]) == 0
    manifest = json.loads((first / "manifest.json").read_text())
    settings = manifest["settings"]
    assert "--pool-mode avg" in settings["command"] and settings["explorer"]["pool_mode"] == "avg"
    assert "F.average_pooling_2d(h, 3, stride=2)" in settings["chainer"]
    assert "nn.AvgPool2d(3, stride=2)" in settings["pytorch"]
    shapes = {layer["name"]: layer["shape"] for layer in manifest["layers"]}
    assert shapes["pool"] == [4, 22, 22]  # floor((46 - 3) / 2) + 1; max with cover_all: 23
    relu, pool = (np.load(next(first.rglob(f"{name}*.npy"))) for name in ("relu", "pool"))
    np.testing.assert_array_equal(pool, ops.avg_pool2d(relu[None], 3, stride=2)[0])
    rerun_recorded(first, again)
    assert pngs(first) == pngs(again)


def test_pool_mode_is_an_explorer_flag_with_its_choices(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", str(tmp_path / "o"), "--pool-mode", "mean"])
    assert info.value.code == 2 and "invalid choice: 'mean'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", str(tmp_path / "o"), "--net", "alexbn", "--pool-mode", "avg"])
    assert info.value.code == 2 and "--pool-mode sets the explorer pipeline" in capsys.readouterr().err
