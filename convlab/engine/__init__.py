"""The ConvLab engine: NumPy (or CuPy) arrays only; it never imports Qt, pyqtgraph or Pillow.

Packages, each importing only those listed after it:
``explain`` and ``explorer`` (one value's terms; the single-layer laboratory), ``nets`` (networks,
specs, presets, weights files, code), ``layers`` (the kinds and their registry), ``ops`` (stateless
array functions), ``arithmetic`` (sizes and receptive fields, no arrays); ``backend`` and
``wording`` (array module and phrasing) are below them all.
"""
