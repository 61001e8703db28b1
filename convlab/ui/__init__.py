"""ConvLab's window (PySide6 + pyqtgraph). Imports the engine; the engine never imports this.

``app.run_app(path)`` starts it; ``main_window.MainWindow`` is the window; ``explorer`` the
single-layer laboratory; ``feature_view.FeatureView`` the reusable montage of maps;
``worker.LatestWorker`` computes off the GUI thread, newest request first.
"""
