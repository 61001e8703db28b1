"""Loaded weights live in memory: deleting the file breaks no later change, run or record."""

from __future__ import annotations

import hashlib

import numpy as np

from convlab.engine.nets import build_network
from convlab.pipelines.network import NetworkRunner, NetworkSettings


def test_a_deleted_weights_file_still_serves_later_changes_and_records(tmp_path):
    trained = build_network("alexbn", seed=5)
    trained["bn1"].params["avg_mean"][:] = 0.25
    path = tmp_path / "alexbn.npz"
    trained.save_npz(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    image = np.random.default_rng(0).random((240, 240, 3), dtype=np.float32)
    runner = NetworkRunner()
    s = NetworkSettings(weights=str(path), bn_mode="stored", insize=227)
    first = runner.run(image, s)
    path.unlink()
    for change in ({"handmade_conv1": True}, {"seed": 3}, {"bn_mode": "batch"}, {}):
        result = runner.run(image, s.replace(**change))  # no "no such file"
        assert result.completed and "fc8" in result.outputs
        assert "alexbn.npz" in result.weights_source
        record = result.settings_record({"path": None, "name": "x", "size": [240, 240]})
        assert record["weights"]["sha256"] == digest and "--weights" in record["command"]
        if not change.get("handmade_conv1") and "bn_mode" not in change:
            np.testing.assert_array_equal(result.outputs["fc8"], first.outputs["fc8"])
