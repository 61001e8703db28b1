"""The ConvLab engine: NumPy (or CuPy) only. Never imports Qt, pyqtgraph or Pillow."""
