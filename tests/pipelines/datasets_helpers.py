"""Tiny files in the real dataset formats, and a local HTTP server that can drop connections."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: 0, 0, 0x08, ndim, big-endian sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(folder: Path, n_train=30, n_test=10, *, gz=True, seed=0, side=28):
    """``train-*`` and ``t10k-*`` IDX files of random images and labels 0-9; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        if n is None:
            continue
        images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        for kind, data in (("images-idx3", images), ("labels-idx1", labels)):
            raw = idx_bytes(data)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw, mtime=0))
            else:
                (folder / name).write_bytes(raw)
        arrays[prefix] = (images, labels)
    return arrays


def cifar_bytes(images: np.ndarray, labels) -> bytes:
    """CIFAR-10 binary records: a label byte, then the R, G and B planes of a 32x32 image."""
    planes = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)
    return np.concatenate([np.asarray(labels, np.uint8)[:, None], planes], axis=1).tobytes()


def write_cifar(folder: Path, per_batch=6, n_batches=2, n_test=5, seed=0, meta=True):
    """``data_batch_1.bin`` .. and ``test_batch.bin`` of random images; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    names = [f"data_batch_{i}.bin" for i in range(1, n_batches + 1)] + ["test_batch.bin"]
    for name in names:
        n = n_test if name == "test_batch.bin" else per_batch
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        (folder / name).write_bytes(cifar_bytes(images, labels))
        out[name] = (images, labels)
    if meta:
        (folder / "batches.meta.txt").write_text("\n".join(
            ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]) + "\n\n")
    return out


def cifar_archive(folder: Path, extra=()) -> bytes:
    """A cifar-10-binary.tar.gz of the files in ``folder``, as the real archive lays them out;
    ``extra``: further ``tarfile.TarInfo`` members (with their data or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=f"cifar-10-batches-bin/{path.name}")
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """``http.server`` on 127.0.0.1 in a thread, serving ``folder`` with HTTP Range support.

    ``drop_after``: bytes sent before the connection is cut, for the next ``drops`` responses.
    ``requests`` records each request's (path, Range header)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.drop_after: int | None = None
        self.drops = 0
        self.honour_range = True
        self.redirects: dict[str, str] = {}      # path -> Location of a 302 answer
        self.release: threading.Event | None = None  # given: answers stop after 10 bytes ...
        self.holding = threading.Event()             # ... say so here, and go on once it is set
        self.requests: list[tuple[str, str | None]] = []
        handler = partial(_Handler, self, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, server_state: Server, *args, **kwargs):
        self.state = server_state
        super().__init__(*args, **kwargs)

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        state = self.state
        state.requests.append((self.path, self.headers.get("Range")))
        if self.path in state.redirects:
            self.send_response(302)
            self.send_header("Location", state.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = state.folder / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and state.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if state.release is not None:
            self.wfile.write(body[:10])
            self.wfile.flush()
            state.holding.set()
            state.release.wait(30)
            body = body[10:]
        if state.drops > 0 and state.drop_after is not None:
            state.drops -= 1
            self.wfile.write(body[:state.drop_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
