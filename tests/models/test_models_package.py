"""The engine never imports onnx; without onnx, load_onnx says how to install it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import convlab.models as models


def test_the_engine_imports_no_onnx_and_no_file_parser():
    code = ("import sys, convlab.engine.nets, convlab.engine.layers.graph_kinds, convlab.engine.explorer.ica, "
            "convlab.engine.explorer.kernels; "
            "print(sorted(m for m in ('onnx', 'google.protobuf', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_onnx_load_onnx_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)                  # import onnx -> ImportError
    assert not models.onnx_available()
    with pytest.raises(models.OnnxUnavailable, match=r"pip install \"convlab\[onnx\]\""):
        models.load_onnx(tmp_path / "any.onnx")
