"""The sample photos shipped with ConvLab (``convlab.resources/samples``; sources in LICENSE.md there).

Found through :mod:`importlib.resources`, so an editable checkout and a plain ``pip install``
both work. In an ordinary install the items are :class:`pathlib.Path` objects;
:func:`convlab.pipelines.images.load_image` also reads the Traversable objects of a zipped install.
"""

from __future__ import annotations

from importlib.resources import files

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
DEFAULT_SAMPLE = "astronaut.jpg"  # Eileen Collins, NASA, public domain


def samples_folder():
    """The folder (a Path or Traversable) that holds the sample photos."""
    return files("convlab.resources") / "samples"


def list_samples() -> list:
    """Every bundled sample photo, sorted by file name (LICENSE.md and the like left out)."""
    folder = samples_folder()
    if not folder.is_dir():
        return []
    found = [item for item in folder.iterdir()
             if item.is_file() and item.name.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found, key=lambda item: item.name)


def default_sample():
    """The photo the window opens on: the astronaut (512 x 512), or the first sample if missing."""
    samples = list_samples()
    for item in samples:
        if item.name == DEFAULT_SAMPLE:
            return item
    if not samples:
        raise FileNotFoundError("ConvLab's sample photos are missing from convlab/resources/samples; "
                                "reinstall ConvLab.")
    return samples[0]
