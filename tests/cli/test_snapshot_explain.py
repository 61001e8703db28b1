"""``convlab snapshot --explain``: the explorer drawn with one output value pinned."""

from __future__ import annotations

import argparse

import pytest
from PySide6.QtGui import QImage

from convlab.cli import main
from convlab.cli.snapshot import parse_explain


@pytest.mark.parametrize("text, pinned", [("12,40", ("conv", 0, 12, 40)),
                                          ("pool:3,5,6", ("pool", 3, 5, 6)),
                                          (" BN : 2 , 0 , 1 ", ("bn", 2, 0, 1))])
def test_explain_positions_parse(text, pinned):
    assert parse_explain(text) == pinned


@pytest.mark.parametrize("text", ["12", "fc6:1,2,3", "a,b", "relu:1,2"])
def test_bad_explain_positions_say_what_is_expected(text):
    with pytest.raises(argparse.ArgumentTypeError, match="STAGE:C,I,J"):
        parse_explain(text)


def test_snapshot_with_a_pinned_value(qtbot, tmp_path, capsys):
    out = tmp_path / "explain.png"
    assert main(["snapshot", "--out", str(out), "--size", "1000x700",
                 "--explain", "relu:3,10,20"]) == 0
    assert (QImage(str(out)).width(), QImage(str(out)).height()) == (1000, 700)


def test_explain_needs_the_explorer(qtbot, tmp_path, capsys):
    assert main(["snapshot", "--out", str(tmp_path / "n.png"), "--pane", "network",
                 "--explain", "1,2"]) == 1
    assert "--explain needs --pane explorer" in capsys.readouterr().err
