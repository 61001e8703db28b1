"""The window's panes (tabs); each offers the declared pane interface of :mod:`convlab.ui.panes.base`."""
