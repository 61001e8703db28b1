"""Downloads from a local HTTP server on 127.0.0.1: resume, checksums, archives, no network."""

from __future__ import annotations

import socket
import tarfile

import numpy as np
import pytest

from convlab.pipelines.datasets import open_dataset
from convlab.pipelines.datasets.catalogue import CATALOGUE, Entry, RemoteFile
from convlab.pipelines.datasets.download import (RECORD, DownloadError, NoNetworkError,
                                                 fetch_dataset,
                                                 is_complete)
from tests.pipelines.datasets_helpers import Server, cifar_archive, sha256, write_cifar, write_mnist


def mnist_entry(folder, *, corrupt=None) -> dict:
    """A catalogue like the real one for the tiny MNIST files in ``folder``."""
    files = []
    for spec in CATALOGUE["mnist"].files:
        data = (folder / spec.name).read_bytes()
        digest = "0" * 64 if spec.name == corrupt else sha256(data)
        files.append(RemoteFile(spec.name, len(data), digest))
    return {"mnist": Entry("mnist", "tiny MNIST", "http://127.0.0.1:9/unused/", tuple(files))}


@pytest.fixture
def served(tmp_path):
    write_mnist(tmp_path / "www", 40, 20, seed=3)
    with Server(tmp_path / "www") as server:
        yield server, mnist_entry(tmp_path / "www")


def test_files_arrive_checked_and_open_as_a_dataset(served, tmp_path):
    server, table = served
    folder = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert is_complete(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f.name for f in table["mnist"].files] + ["download.json"])
    ds = open_dataset(folder)
    assert (len(ds.train), len(ds.test)) == (40, 20)
    count = len(server.requests)
    fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert len(server.requests) == count  # complete: nothing fetched again


def test_a_dropped_connection_resumes_with_a_range_request(served, tmp_path):
    server, table = served
    server.drop_after, server.drops = 100, 1
    folder = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    first = table["mnist"].files[0].name
    assert server.requests[:2] == [(f"/{first}", None), (f"/{first}", "bytes=100-")]
    assert (folder / first).read_bytes() == (tmp_path / "www" / first).read_bytes()


def test_an_interrupted_download_resumes_on_the_next_run(served, tmp_path):
    server, table = served
    server.drop_after, server.drops = 200, 1
    first = table["mnist"].files[0]
    with pytest.raises(DownloadError) as info:
        fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table, retries=0)
    text = str(info.value)
    assert f"stopped at 200 of {first.size:,} bytes" in text and "run the same command again" in text
    assert (tmp_path / "got" / (first.name + ".part")).stat().st_size == 200
    fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert server.requests[1] == (f"/{first.name}", "bytes=200-")
    assert open_dataset(tmp_path / "got").train.images.shape == (40, 28, 28, 1)


def test_a_server_that_ignores_range_sends_the_whole_file_again(served, tmp_path):
    server, table = served
    server.drop_after, server.drops, server.honour_range = 100, 1, False
    folder = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert len(open_dataset(folder).train) == 40


def test_a_checksum_mismatch_deletes_the_file_and_says_so(tmp_path):
    write_mnist(tmp_path / "www", 10, 10)
    table = mnist_entry(tmp_path / "www", corrupt="t10k-images-idx3-ubyte.gz")
    with Server(tmp_path / "www") as server:
        with pytest.raises(DownloadError) as info:
            fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    text = str(info.value)
    assert "does not match its published checksum" in text and "not used" in text
    assert "\n" not in text
    left = {p.name for p in (tmp_path / "got").iterdir()}
    assert not any(name.startswith("t10k-images") for name in left)
    assert not is_complete(tmp_path / "got")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_one_sentence(tmp_path):
    write_mnist(tmp_path / "www", 10, 10)
    table = mnist_entry(tmp_path / "www")
    with pytest.raises(NoNetworkError) as info:
        fetch_dataset("mnist", dest=tmp_path / "got", catalogue=table,
                      mirror=f"http://127.0.0.1:{_closed_port()}/")
    text = str(info.value)
    assert text.startswith("cannot reach 127.0.0.1:") and "check the network" in text
    assert "\n" not in text


def test_a_missing_file_on_the_server_names_the_status(served, tmp_path):
    server, table = served
    with pytest.raises(DownloadError, match="answered 404"):
        fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url + "elsewhere/",
                      catalogue=table)


# --- CIFAR-10: an archive, unpacked safely ------------------------------------------------------

def cifar_table(archive: bytes, members=None) -> dict:
    real = CATALOGUE["cifar10"]
    bounds = members or tuple((name, 10 * 3073 if "batch" in name else 4096)
                              for name, _ in real.members)
    remote = RemoteFile(real.files[0].name, len(archive), sha256(archive))
    return {"cifar10": Entry("cifar10", "tiny CIFAR-10", real.base_url, (remote,), bounds)}


def _serve_archive(tmp_path, archive: bytes):
    (tmp_path / "www").mkdir(exist_ok=True)
    (tmp_path / "www" / "cifar-10-binary.tar.gz").write_bytes(archive)
    return Server(tmp_path / "www")


def test_the_cifar_archive_is_unpacked_and_removed(tmp_path):
    write_cifar(tmp_path / "src", per_batch=4, n_batches=5, n_test=3)
    archive = cifar_archive(tmp_path / "src")
    with _serve_archive(tmp_path, archive) as server:
        folder = fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                               catalogue=cifar_table(archive))
    assert not (folder / "cifar-10-binary.tar.gz").exists() and is_complete(folder)
    ds = open_dataset(folder)
    assert (len(ds.train), len(ds.test)) == (20, 3) and ds.train.images.dtype == np.uint8


def _hostile(tmp_path, info, data):
    write_cifar(tmp_path / "src", per_batch=4, n_batches=5, n_test=3)
    archive = cifar_archive(tmp_path / "src", extra=[(info, data)])
    with _serve_archive(tmp_path, archive) as server:
        with pytest.raises(DownloadError) as caught:
            fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                          catalogue=cifar_table(archive))
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "evil").exists()
    return str(caught.value)


def test_an_archive_member_that_leaves_the_folder_is_refused(tmp_path):
    info = tarfile.TarInfo("../evil")
    info.size = 4
    assert "leaves the folder" in _hostile(tmp_path, info, b"evil")


def test_an_archive_link_in_place_of_a_batch_is_refused(tmp_path):
    write_cifar(tmp_path / "src", per_batch=4, n_batches=5, n_test=3)
    (tmp_path / "src" / "test_batch.bin").unlink()
    link = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = cifar_archive(tmp_path / "src", extra=[(link, None)])
    with _serve_archive(tmp_path, archive) as server:
        with pytest.raises(DownloadError, match="link or special file"):
            fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                          catalogue=cifar_table(archive))


def test_an_archive_member_over_its_size_bound_is_refused(tmp_path):
    write_cifar(tmp_path / "src", per_batch=11, n_batches=5, n_test=3)  # 11 records > 10 allowed
    archive = cifar_archive(tmp_path / "src")
    with _serve_archive(tmp_path, archive) as server:
        with pytest.raises(DownloadError, match="more than the 30,730 it may hold"):
            fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                          catalogue=cifar_table(archive))


def test_an_unknown_name_is_a_sentence():
    with pytest.raises(DownloadError, match="no dataset 'svhn'.*cifar10, fashion-mnist, mnist"):
        fetch_dataset("svhn")


def test_the_real_catalogue_has_full_digests():
    for entry in CATALOGUE.values():
        for f in entry.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.size > 0
            assert f.md5 is None or len(f.md5) == 32


def test_only_web_addresses_are_read(served, tmp_path):
    """--mirror file:///... and a redirect to file:// or ftp:// are refused in one sentence:
    the download reads http and https only (urllib alone opens local files and follows ftp)."""
    server, table = served
    with pytest.raises(DownloadError) as info:
        fetch_dataset("mnist", dest=tmp_path / "a", mirror=(tmp_path / "www").as_uri(),
                      catalogue=table)
    assert "http" in str(info.value) and not (tmp_path / "a" / RECORD).exists()
    first = table["mnist"].files[0].name
    ftp = f"ftp://127.0.0.1:{_closed_port()}/{first}"
    for target in (ftp, (tmp_path / "www" / first).as_uri()):
        server.redirects[f"/{first}"] = target
        with pytest.raises(DownloadError) as info:
            fetch_dataset("mnist", dest=tmp_path / "b", mirror=server.url, catalogue=table)
        assert isinstance(info.value, DownloadError) and not isinstance(info.value, NoNetworkError)
        assert target.split(":")[0] + "://" in str(info.value) and "\n" not in str(info.value)


def test_a_redirect_to_another_web_server_is_followed(served, tmp_path):
    server, table = served
    first = table["mnist"].files[0].name
    (tmp_path / "www" / "moved").mkdir()
    (tmp_path / "www" / "moved" / first).write_bytes((tmp_path / "www" / first).read_bytes())
    server.redirects[f"/{first}"] = server.url.replace("127.0.0.1", "localhost") + "moved/" + first
    folder = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert is_complete(folder) and (f"/moved/{first}", None) in server.requests


def test_a_part_file_that_is_a_link_is_not_written_through(served, tmp_path):
    server, table = served
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    (tmp_path / "got").mkdir()
    first = table["mnist"].files[0].name
    (tmp_path / "got" / f"{first}.part").symlink_to(outside)
    folder = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    assert outside.read_bytes() == b"keep me"
    assert is_complete(folder) and not (folder / first).is_symlink()


def test_a_second_download_into_the_same_folder_is_refused_while_one_runs(served, tmp_path):
    """Two `convlab data get mnist` at once appended to the same .part files (a corrupt file,
    or one moved away under the other): the second is refused in one sentence."""
    import threading

    server, table = served
    server.release = threading.Event()
    outcome = {}

    def first():
        try:
            outcome["folder"] = fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url,
                                              catalogue=table)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert server.holding.wait(30)
        with pytest.raises(DownloadError) as info:
            fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
        text = str(info.value)
        assert "already" in text and "\n" not in text and text.endswith(".")
    finally:
        server.release.set()
        thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert is_complete(outcome["folder"]) and len(open_dataset(outcome["folder"]).train) == 40


def test_a_full_disk_is_one_sentence_and_keeps_the_part_file(served, tmp_path, monkeypatch):
    """Writing the download can fail (CIFAR-10 needs 350 MB while it is unpacked): the OSError
    went up as a traceback out of `convlab data get`."""
    import errno

    from convlab.pipelines.datasets import download

    server, table = served
    real = download._open_plain

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            if self.fh.tell() + len(data) > 50:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(data)

    monkeypatch.setattr(download, "_open_plain", lambda path, **kw: Full(real(path, **kw)))
    with pytest.raises(DownloadError) as info:
        fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url, catalogue=table)
    text = str(info.value)
    assert "no space left on device" in text.lower() and "\n" not in text
    monkeypatch.setattr(download, "_open_plain", real)
    assert is_complete(fetch_dataset("mnist", dest=tmp_path / "got", mirror=server.url,
                                     catalogue=table))


@pytest.mark.parametrize("mirror", ["http://[::1", "ftp://example.org/", "127.0.0.1:8000"])
def test_a_mirror_that_is_not_a_web_address_is_refused_before_anything(tmp_path, mirror):
    """'http://[::1' went up as urllib's "ValueError: Invalid IPv6 URL" traceback; any address
    that is not http(s) is now refused before the data folder is made."""
    with pytest.raises(DownloadError) as info:
        fetch_dataset("mnist", dest=tmp_path / "got", mirror=mirror)
    assert "not a web address" in str(info.value) and not (tmp_path / "got").exists()


def test_a_full_disk_while_unpacking_is_not_called_a_damaged_archive(tmp_path, monkeypatch):
    """Writing a member can fail (a full disk): the sentence said the archive 'is not a
    readable tar.gz archive', and the user would fetch 170 MB again for nothing."""
    import errno

    from convlab.pipelines.datasets import download

    write_cifar(tmp_path / "src", per_batch=4, n_batches=5, n_test=3)
    archive = cifar_archive(tmp_path / "src")
    real = download._open_plain

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def full(path, **kw):
        return Full(real(path, **kw)) if str(path).endswith(".bin.part") else real(path, **kw)

    monkeypatch.setattr(download, "_open_plain", full)
    with _serve_archive(tmp_path, archive) as server:
        with pytest.raises(DownloadError) as info:
            fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                          catalogue=cifar_table(archive))
    text = str(info.value)
    assert "No space left on device" in text and "not a readable" not in text
    assert (tmp_path / "got" / "cifar-10-binary.tar.gz").is_file()   # kept: nothing to fetch


def _unpack(tmp_path, extra):
    write_cifar(tmp_path / "src", per_batch=4, n_batches=5, n_test=3)
    archive = cifar_archive(tmp_path / "src", extra=extra)
    with _serve_archive(tmp_path, archive) as server:
        return fetch_dataset("cifar10", dest=tmp_path / "got", mirror=server.url,
                             catalogue=cifar_table(archive))


def test_an_archive_of_very_many_members_is_refused(tmp_path):
    """Only the declared sizes were bounded: a tar of millions of empty members (each a
    512-byte header, compressing to almost nothing) was walked whole, tarfile keeping every
    header in memory."""
    from convlab.pipelines.datasets.download import MAX_ARCHIVE_MEMBERS

    many = [(tarfile.TarInfo(f"junk/{i}"), b"") for i in range(MAX_ARCHIVE_MEMBERS + 1)]
    with pytest.raises(DownloadError, match=f"more than {MAX_ARCHIVE_MEMBERS:,} members"):
        _unpack(tmp_path, many)


def test_a_batch_named_twice_in_the_archive_is_refused(tmp_path):
    """tar keeps the last of two members of one name, ConvLab kept the first: which batch the
    user got depended on the tool. Two are refused."""
    twin = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
    twin.size = 3073
    with pytest.raises(DownloadError, match="test_batch.bin twice"):
        _unpack(tmp_path, [(twin, bytes(3073))])
