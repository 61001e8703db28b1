"""convlab.pipelines.records: what the manifest and every PNG say about a photo and a run."""

import hashlib

import numpy as np
import pytest

from convlab.pipelines import images as imaging
from convlab.pipelines import records
from convlab.pipelines.samples import default_sample


def test_image_record_of_a_file_and_of_pasted_pixels(tmp_path):
    photo = default_sample()
    pixels = imaging.load_image(photo)
    rec = records.image_record(photo, pixels.shape)
    assert rec["path"] == str(photo.absolute()) and rec["name"] == "astronaut.jpg"
    assert rec["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest() and rec["size"] == [512, 512]
    pasted = records.image_record(None, pixels.shape, pixels=pixels)
    assert pasted["path"] is None and pasted["name"] == "pasted image" and "sha256" not in pasted
    assert pasted["pixels_sha256"] == hashlib.sha256(pixels.tobytes()).hexdigest()
    gone = records.image_record(tmp_path / "deleted.png", (2, 3), pixels=np.zeros((2, 3, 3)), name="d")
    assert gone["path"].endswith("deleted.png") and "pixels_sha256" in gone and gone["size"] == [3, 2]
    with pytest.raises(ValueError):
        records.image_record(None, (2, 3))


def test_records_of_a_pasted_image_have_a_runnable_looking_command():
    from convlab.engine.explorer import ExplorerSettings

    image = records.image_record(None, (300, 400, 3), pixels=np.zeros((300, 400, 3), np.float32))
    rec = records.explorer_settings_record(ExplorerSettings(kernel=5), image, longest=512,
                                           input_shape=(300, 400, 3))
    assert rec["command"] == "convlab export IMAGE --out DIR --kernel 5"
    net = records.network_settings_record("alexbn", image, weights_source="random (seed 3)", insize=227,
                                          seed=3, bn_mode="stored", crop_box=(1.0, 2.0, 3.0, 4.0))
    assert net["command"] == "convlab export IMAGE --out DIR --net alexbn --seed 3 --bn-mode stored"
    assert net["weights"] == {"source": "random (seed 3)"} and net["preprocess"]["crop_box"] == [1, 2, 3, 4]


def test_a_photo_with_a_huge_sparse_tail_is_hashed_in_bounded_memory(tmp_path):
    """Issue 20, case 11: a valid PNG followed by a sparse tail of gigabytes was read whole to
    hash it (1.6 GB resident for 1.5 GiB; "out of memory" under an address-space limit). Under a
    1 GiB address-space limit, export of a PNG with a 1.5 GiB tail must work and record the size."""
    import json
    import os
    import subprocess
    import sys

    from PIL import Image

    photo = tmp_path / "tail.png"
    Image.new("RGB", (24, 20), (10, 200, 40)).save(photo)
    with open(photo, "r+b") as fh:
        fh.truncate(3 << 29)                       # sparse: no disk, 1.5 GiB to any reader
    limit = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
             "sys.argv = ['convlab'] + sys.argv[1:]; runpy.run_module('convlab', run_name='__main__')")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", limit, "export", str(photo), "--out",
                           str(tmp_path / "out"), "--filters", "4"], capture_output=True, text=True,
                          timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert f'"bytes": {3 << 29}' in json.dumps(manifest)
