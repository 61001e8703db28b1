"""Every package under convlab/ ships in a non-editable install (`pip install .`)."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "convlab").rglob("__init__.py")}
    assert found - listed == set(), "packages missing from [tool.setuptools] packages"
    assert listed - found - {"convlab.resources"} == set(), "listed packages that do not exist"
