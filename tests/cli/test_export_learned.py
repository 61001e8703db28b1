"""``convlab export --kernels learned``: kernels learned from photos, reproduced by the command
the manifest and every PNG record."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from convlab.cli import main

SMALL = ["--kernel", "5", "--filters", "8", "--longest", "96"]


def pngs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def recorded_command(folder: Path) -> list[str]:
    return shlex.split(json.loads((folder / "manifest.json").read_text())["settings"]["command"])


def rerun(command: list[str], out: Path) -> None:
    """The recorded command in a fresh process (no cache of learned kernels), with DIR filled in."""
    assert command[:2] == ["convlab", "export"]
    argv = [str(out) if word == "DIR" else word for word in command[2:]] + ["--quiet"]
    proc = subprocess.run([sys.executable, "-m", "convlab", "export", *argv],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_learned_kernels_reproduce_byte_for_byte_from_the_recorded_command(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["export", "--out", str(first), "--kernels", "learned", "--seed", "3", *SMALL,
                 "--quiet"]) == 0
    command = recorded_command(first)
    assert "--bank learned" in " ".join(command) and "--seed 3" in " ".join(command)
    png = Image.open(first / "conv_grid.png")
    assert json.loads(png.text["convlab:settings"])["command"] == " ".join(command)
    rerun(command, again)
    made, remade = pngs(first), pngs(again)
    assert len(made) == 4 * (1 + 8) and made == remade  # conv, bn, relu, pool: a grid + 8 maps


def test_learned_kernels_differ_from_random_and_follow_the_seed(tmp_path):
    def conv_maps(out: Path, *flags: str) -> np.ndarray:
        assert main(["export", "--out", str(out), *flags, *SMALL, "--npy", "--no-maps",
                     "--layers", "conv", "--quiet"]) == 0
        return np.load(out / "conv.npy")                           # (8, h, w)

    learned = conv_maps(tmp_path / "a", "--kernels", "learned")
    random = conv_maps(tmp_path / "b", "--bank", "random")
    other_seed = conv_maps(tmp_path / "c", "--kernels", "learned", "--seed", "1")
    assert learned.shape == random.shape == other_seed.shape
    assert not np.allclose(learned, random) and not np.allclose(learned, other_seed)
