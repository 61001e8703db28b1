"""Data files shipped with ConvLab (sample photos, icons). Installed as ``convlab.resources``."""
