"""Widgets that hold no pane state: canvases, the readout, the settings panel, the map views."""
