"""The command ``convlab export`` records carries every flag given, so running it again writes the
same files (issue 24: --scale, --cmap, --normalize, --layers and --no-grid were dropped)."""

from __future__ import annotations

import shlex

import pytest

from convlab.cli import main
from tests.cli.test_export_files import manifest, pngs, run_recorded


@pytest.mark.parametrize("flags", [
    ["--scale", "3", "--cmap", "magma"],
    ["--normalize", "layer", "--layers", "conv,pool", "--no-grid"],
    ["--normalize", "fixed:-1,2", "--no-maps", "--npy", "--kernel", "5"],
])
def test_the_recorded_command_reproduces_the_export(tmp_path, photo, flags):
    out, again = tmp_path / "a", tmp_path / "b"
    argv = ["export", str(photo(40, 30)), "--out", str(out), "--filters", "4", "--longest", "40"]
    assert main(argv + flags + ["--quiet"]) == 0
    command = manifest(out)["settings"]["command"]
    words = shlex.split(command)
    for flag in flags:
        assert flag in words, (flag, command)
    assert run_recorded(out, again) == 0
    assert manifest(again)["settings"]["command"] == command
    assert pngs(again) == pngs(out)
    assert sorted(p.name for p in again.rglob("*")) == sorted(p.name for p in out.rglob("*"))


def test_defaults_add_no_output_flags(tmp_path, photo):
    out = tmp_path / "a"
    assert main(["export", str(photo(40, 30)), "--out", str(out), "--filters", "2", "--quiet"]) == 0
    command = manifest(out)["settings"]["command"]
    for flag in ("--scale", "--cmap", "--normalize", "--layers", "--no-grid", "--npy"):
        assert flag not in command


def test_the_summary_counts_the_whole_run_not_only_the_writing(tmp_path, photo, monkeypatch, capsys):
    """Issue 24: "Wrote 389 files in 2.4 s" after a 48 s run (learning the kernels not counted).
    A fake clock: the computation takes 48 s of it, the writing none."""
    from types import SimpleNamespace

    import convlab.cli.export as export_cli
    from convlab.engine import explorer

    clock = SimpleNamespace(t=1000.0)
    monkeypatch.setattr(export_cli, "time", SimpleNamespace(perf_counter=lambda: clock.t))
    real = explorer.run_explorer

    def slow(*args, **kwargs):
        clock.t += 48.0
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer, "run_explorer", slow)
    assert main(["export", str(photo(40, 30)), "--out", str(tmp_path / "a"), "--filters", "2"]) == 0
    assert "in 48.0 s" in capsys.readouterr().out
