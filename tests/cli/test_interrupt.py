"""Ctrl+C while a command starts (importing Qt, building the window, loading weights): one line
on stderr and exit status 130, never a Python traceback (issue 10).

The Ctrl+C is a real SIGINT that the process sends itself at a chosen moment of its start-up
(a hook on an import or on a function), so the test does not depend on timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# Sends SIGINT to this process the first time MODULE is imported, then goes on importing it.
HOOK_IMPORT = """
import builtins, os, signal
_real_import = builtins.__import__
def _import(name, *args, **kwargs):
    if name.startswith({module!r}) and not getattr(builtins, "_sent", False):
        builtins._sent = True
        os.kill(os.getpid(), signal.SIGINT)
    return _real_import(name, *args, **kwargs)
builtins.__import__ = _import
"""

# Sends SIGINT to this process when FUNCTION of MODULE is first called, then calls it.
HOOK_CALL = """
import importlib, os, signal
_module = importlib.import_module({module!r})
_real = getattr(_module, {function!r})
def _interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    return _real(*args, **kwargs)
setattr(_module, {function!r}, _interrupted)
"""


def _run(hook: str, argv: list[str], tmp_path) -> subprocess.CompletedProcess:
    script = hook + textwrap.dedent(f"""
        import sys
        from convlab.cli import main
        sys.exit(main({argv!r}))
        """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=240, env=env, cwd=tmp_path)


def _assert_quiet_interrupt(proc) -> None:
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0], proc.stderr


@pytest.mark.parametrize("module", ["PySide6.QtWidgets", "convlab.ui.main_window"])
def test_ctrl_c_while_snapshot_imports_qt_or_the_window(tmp_path, module):
    proc = _run(HOOK_IMPORT.format(module=module), ["snapshot", "--out", str(tmp_path / "s.png")],
                tmp_path)
    _assert_quiet_interrupt(proc)
    assert not [n for n in os.listdir(tmp_path) if "s.png" in n]  # no PNG, no temporary file


def test_ctrl_c_while_the_window_starts(tmp_path):
    proc = _run(HOOK_IMPORT.format(module="convlab.ui.main_window"), [], tmp_path)
    _assert_quiet_interrupt(proc)


def test_ctrl_c_while_shapes_imports_the_engine(tmp_path):
    proc = _run(HOOK_IMPORT.format(module="convlab.engine"), ["shapes"], tmp_path)
    _assert_quiet_interrupt(proc)


def test_ctrl_c_while_export_loads_the_network(tmp_path):
    out = tmp_path / "maps"
    proc = _run(HOOK_CALL.format(module="convlab.pipelines.netbuild", function="build"),
                ["export", "--out", str(out), "--net", "alexbn", "--layers", "conv1"], tmp_path)
    _assert_quiet_interrupt(proc)
    assert not out.exists()
