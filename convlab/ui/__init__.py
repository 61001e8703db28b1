"""ConvLab's window (PySide6 + pyqtgraph). Imports the layers below it; nothing below imports this.

``app.run_app(path)`` starts it; ``main_window.MainWindow`` is the window; ``panes/`` holds the
tabs (``panes.explorer``, the single-layer laboratory; ``panes.network``), each behind the
``panes.base.Pane`` protocol; ``widgets/`` the pieces they are built of
(``widgets.feature_view.FeatureView``, the reusable montage of maps); ``worker.LatestWorker``
computes off the GUI thread, newest request first.
"""
