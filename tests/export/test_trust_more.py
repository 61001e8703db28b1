"""Export touches only what it wrote, continued (review of issue 20): folders whose names merely
look like ConvLab's, the final step's names resolved through the descriptors it checked, and
manifests that are small on disk but large in memory."""

from __future__ import annotations

import os
import time

import numpy as np

from convlab.export.maps import export_maps


def layers():
    rng = np.random.default_rng(1)
    return {"conv": rng.standard_normal((3, 4, 5)).astype(np.float32)}


def test_a_users_folder_named_like_old_staging_is_kept(tmp_path):
    """A user's own hidden folder whose name matches an older ConvLab's staging pattern
    (``.convlab-export-<word>``), untouched for over an hour, is the user's: its files stay."""
    out = tmp_path / "out"
    export_maps(out, layers(), settings={})
    for name in (".convlab-export-notes", ".convlab-export-999999999-backup"):
        mine = out / name
        mine.mkdir()
        (mine / "thesis.txt").write_text("three years of work")
        old = time.time() - 2 * 3600
        os.utime(mine, (old, old))
    export_maps(out, layers(), settings={})
    for name in (".convlab-export-notes", ".convlab-export-999999999-backup"):
        assert (out / name / "thesis.txt").read_text() == "three years of work"
