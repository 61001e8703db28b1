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
