"""``convlab`` as a whole, ``convlab shapes`` and ``convlab bench``, through the real entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from convlab.cli import main
from convlab.cli.window import display_problem


def test_shapes_prints_every_layer_and_the_totals(capsys):
    assert main(["shapes"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "alexbn at 227x227"
    pool5 = next(line for line in lines if line.startswith("pool5"))
    assert "256x6x6" in pool5 and "195 / 32" in pool5
    assert "Total params: 62,379,048" in out and "(1.14 G)" in out
    header = lines[1]
    # aligned: every row's output column starts where the header's does
    col = header.index("output")
    assert all(line[col - 2:col] == "  " for line in lines[3:25])


def test_shapes_for_an_input_that_cannot_pass_says_where_and_exits_1(capsys):
    assert main(["shapes", "--net", "alex", "--input", "180"]) == 1
    out = capsys.readouterr().out
    assert "norm1" in out
    assert "The input does not pass: fc6 expects 9,216 inputs but receives 256 × 5 × 5 = 6,400" in out
    assert "199-230" in out


def test_shapes_refuses_a_bad_flag_argparse_style():
    proc = subprocess.run([sys.executable, "-m", "convlab", "shapes", "--net", "vgg"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice: 'vgg'" in proc.stderr and "Traceback" not in proc.stderr


def test_bench_reports_layers_ceilings_and_roofline(capsys):
    assert main(["bench", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "conv2" in out and "fc6" in out
    assert "GFLOP/s (2048^3 float32)" in out and "GB/s (GEMV over 234 MB)" in out
    assert "of the roofline" in out and "peak resident memory" in out


@pytest.mark.parametrize("argv,flag,words", [
    (["--repeats", "99999999999999999999"], "--repeats", "from 1 to 10,000"),
    (["--threads", "99999999999999999999"], "--threads", "from 1 to 1,024"),
    (["--repeats", "0"], "--repeats", "from 1 to 10,000"),       # was a StatisticsError
    (["--threads", "-3"], "--threads", "from 1 to 1,024"),
    (["--repeats", "1e3"], "--repeats", "whole number from 1 to 10,000"),
])
def test_bench_numbers_out_of_range_are_refused_before_any_run(argv, flag, words, capsys,
                                                               monkeypatch):
    """Issue 20, case 15: a huge --repeats/--threads ran until killed, --repeats 0 ended in a
    StatisticsError; each flag has a range, refused with exit 2 before anything runs."""
    import convlab.cli.bench as bench

    def never(*args, **kw):
        raise AssertionError("the benchmark ran with an out-of-range flag")

    monkeypatch.setattr(bench, "run_bench", never)
    with pytest.raises(SystemExit) as info:
        main(["bench", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert flag in err and words in err and "Traceback" not in err


def test_bench_help_states_each_numeric_range(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "timed forwards, 1 to 10,000" in out and "BLAS threads, 1 to 1,024" in out


# --- the command line as a whole: sub-commands, typos, no display --------------------------------

def test_a_typo_of_a_command_is_a_usage_error_with_a_suggestion(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file named "shape" here
    with pytest.raises(SystemExit) as info:
        main(["shape"])
    assert info.value.code == 2
    assert "did you mean 'shapes'?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["exprot", "--out", "x"])
    assert info.value.code == 2 and "did you mean 'export'?" in capsys.readouterr().err


def test_without_a_display_the_window_says_so_in_one_sentence(capsys, monkeypatch, tmp_path):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not read: the display check comes first")
    for argv in ([], [str(photo)]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("convlab: the window needs a display")


def test_a_missing_xcb_library_is_named_by_its_package():
    problem = display_problem({"DISPLAY": ":0"}, "linux", find_library=lambda lib: lib != "xcb-cursor")
    assert "libxcb-cursor0" in problem and problem.count(".") <= 3
    assert display_problem({"DISPLAY": ":0"}, "linux", find_library=lambda lib: "/lib/x.so") == ""
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") == ""


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and all(name in out for name in ("shapes", "export", "snapshot", "bench"))
