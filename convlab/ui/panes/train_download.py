"""The Train pane's "Download…" for MNIST, Fashion-MNIST and CIFAR-10 (a thin adapter).

``convlab.pipelines.datasets.download.fetch_dataset`` runs in a worker of its own (resumable,
checked by SHA-256, a sentence for no network). It reports no progress and cannot be
interrupted, so the bar follows the bytes on disk (the ``.part`` and finished files, read
with ``os.stat`` 4 times a second against the catalogue's sizes), and Cancel stops waiting:
the transfer goes on until it ends or the window quits, and the next Download resumes it from
its ``.part`` file (HTTP Range).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QPushButton

from convlab.pipelines.datasets import CATALOGUE, dataset_dir
from convlab.ui.worker import LatestWorker


def on_disk(name: str) -> int:
    """Bytes of ``name``'s files (finished or ``.part``) in its download folder."""
    folder = dataset_dir(name)
    total = 0
    for remote in CATALOGUE[name].files:
        for candidate in (remote.name, remote.name + ".part"):
            try:
                total += os.stat(folder / candidate).st_size
            except OSError:
                pass
    return total


class DownloadMixin:
    """Needs ``source()``, ``load_data()``, ``_say`` and the data row's layout to add to."""

    def build_download(self, row) -> None:
        self.download_button = QPushButton("Download…", objectName="trainDownload")
        self.download_button.setToolTip("Fetch this dataset (checked by SHA-256); the same as "
                                        "'convlab data get NAME'")
        self.download_bar = QProgressBar(objectName="trainDownloadProgress", visible=False)
        self.download_cancel = QPushButton("Cancel", objectName="trainDownloadCancel",
                                           visible=False)
        for w in (self.download_button, self.download_bar, self.download_cancel):
            row.addWidget(w)
        self.download_worker = LatestWorker("train-download", self)
        self.download_worker.finished.connect(self._downloaded)
        self.download_worker.failed.connect(self._download_failed)
        self._download_timer = QTimer(self, interval=250)
        self._download_timer.timeout.connect(self._download_progress)
        self.download_button.clicked.connect(self.download)
        self.download_cancel.clicked.connect(self.cancel_download)
        self._downloading = ""

    def sync_download(self) -> None:
        """Offer Download… for a catalogued dataset not yet fetched."""
        name = self.source()
        wanted = isinstance(name, str) and name in CATALOGUE and not self._downloading
        self.download_button.setVisible(wanted and not (dataset_dir(name) / "download.json").exists())

    def download(self) -> int:
        name = self.source()
        if name not in CATALOGUE:
            return 0
        from convlab.pipelines.datasets.download import fetch_dataset

        self._downloading = name
        self.download_bar.setRange(0, 1000)
        self.download_bar.setValue(0)
        for w, on in ((self.download_button, False), (self.download_bar, True),
                      (self.download_cancel, True)):
            w.setVisible(on)
        self._download_timer.start()
        return self.download_worker.submit(lambda j: (name, fetch_dataset(name, progress=False)))

    def cancel_download(self) -> None:
        self.download_worker.cancel()  # its result is dropped; the transfer resumes next time
        self._end_download()
        self._say("Download cancelled; the next Download… goes on from where it stopped.", "info")

    def _download_progress(self) -> None:
        name = self._downloading
        if name:
            total = sum(f.size for f in CATALOGUE[name].files) or 1
            self.download_bar.setValue(int(1000 * min(1.0, on_disk(name) / total)))

    def _downloaded(self, _id: int, payload) -> None:
        self._end_download()
        self._say(f"{payload[0]} downloaded and checked.", "info")
        if payload[0] == self.source():
            self.load_data()

    def _download_failed(self, _id: int, text: str) -> None:
        self._end_download()
        self._say(text)

    def _end_download(self) -> None:
        self._downloading = ""
        self._download_timer.stop()
        self.download_bar.setVisible(False)
        self.download_cancel.setVisible(False)
        self.sync_download()
