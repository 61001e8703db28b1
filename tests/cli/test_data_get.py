"""``convlab data get`` and ``convlab data list`` against a local server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from convlab.cli import main
from convlab.pipelines.datasets import catalogue
from tests.pipelines.datasets_helpers import Server, write_mnist
from tests.pipelines.test_datasets_download import mnist_entry


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Tiny MNIST files served locally, with the test's digests in the catalogue."""
    write_mnist(tmp_path / "www", 30, 10, seed=1)
    monkeypatch.setitem(catalogue.CATALOGUE, "mnist", mnist_entry(tmp_path / "www")["mnist"])
    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path / "data"))
    with Server(tmp_path / "www") as running:
        yield running


def test_get_downloads_into_the_data_folder_and_says_where(server, tmp_path, capsys):
    assert main(["data", "get", "mnist", "--mirror", server.url]) == 0
    out = capsys.readouterr().out
    assert f"is in {tmp_path / 'data' / 'mnist'}" in out and "convlab train --data mnist" in out
    assert (tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    assert main(["data", "get", "mnist", "--mirror", server.url]) == 0
    assert "already in" in capsys.readouterr().out
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    mnist_row = next(line for line in listing.splitlines() if line.startswith("mnist"))
    assert "downloaded" in mnist_row and "not" not in mnist_row
    assert "shapes" in listing and "built in" in listing


def test_get_with_dir_resumes_after_a_dropped_connection(server, tmp_path, capsys):
    server.drop_after, server.drops = 50, 2
    assert main(["data", "get", "mnist", "--mirror", server.url, "--dir", str(tmp_path / "d")]) == 0
    assert ("/train-images-idx3-ubyte.gz", "bytes=50-") in server.requests
    assert (tmp_path / "d" / "download.json").is_file()


def test_a_checksum_mismatch_exits_2_with_one_sentence(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(catalogue.CATALOGUE, "mnist",
                        mnist_entry(tmp_path / "www", corrupt="train-labels-idx1-ubyte.gz")["mnist"])
    assert main(["data", "get", "mnist", "--mirror", server.url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("convlab data get: train-labels-idx1-ubyte.gz")
    assert "does not match its published checksum" in err
    assert not (tmp_path / "data" / "mnist" / "train-labels-idx1-ubyte.gz").exists()


def test_no_network_exits_2_with_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["data", "get", "cifar10", "--mirror", f"http://127.0.0.1:{port}/"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot reach 127.0.0.1" in err and "--mirror address" in err


def test_an_unknown_dataset_is_a_usage_error_in_a_fresh_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "convlab", "data", "get", "svhn"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "invalid choice: 'svhn'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_keeps_the_partial_file_and_says_how_to_resume(server, tmp_path, capsys,
                                                                 monkeypatch):
    from convlab.pipelines.datasets import download

    real_copy = download._copy

    def interrupted_copy(response, out, have, remote, progress):
        out.write(response.read(64))
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "_copy", interrupted_copy)
    assert main(["data", "get", "mnist", "--mirror", server.url]) == 130
    assert capsys.readouterr().err.strip() == ("convlab: interrupted; run the same command again "
                                               "to resume the download.")
    part = tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz.part"
    assert part.stat().st_size == 64
    monkeypatch.setattr(download, "_copy", real_copy)
    assert main(["data", "get", "mnist", "--mirror", server.url]) == 0
    assert ("/train-images-idx3-ubyte.gz", "bytes=64-") in server.requests
