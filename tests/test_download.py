"""core.download: resumed downloads, never a half file under the final name, safe unpacking."""

from __future__ import annotations

import io
import tarfile

import pytest

from core.download import DownloadError, fetch_file, unpack
from tests.fake_web import FakeWeb


@pytest.fixture
def web():
    server = FakeWeb()
    yield server
    server.close()


def test_a_cut_download_resumes_with_the_rest(web, tmp_path):
    data = bytes(range(256)) * 4000
    web.files["/big.bin"] = data
    web.cut_after["/big.bin"] = 300_000
    target = tmp_path / "big.bin"
    with pytest.raises(DownloadError, match=r"stopped sending after 0\.3 (of 1\.0 )?MB; run again to resume"):
        fetch_file(f"{web.url}/big.bin", target)
    assert not target.exists() and (tmp_path / "big.bin.part").stat().st_size == 300_000
    seen = []
    fetch_file(f"{web.url}/big.bin", target, lambda done, total: seen.append((done, total)))
    assert target.read_bytes() == data and not (tmp_path / "big.bin.part").exists()
    assert web.requests[-1] == "/big.bin bytes=300000-" and seen[-1] == (len(data), len(data))
    web.requests.clear()
    fetch_file(f"{web.url}/big.bin", target)  # already whole: not asked again
    assert web.requests == []


def test_missing_file_and_unreachable_server_are_one_line(web, tmp_path):
    with pytest.raises(DownloadError, match=r"answered 404"):
        fetch_file(f"{web.url}/none.tgz", tmp_path / "none.tgz")
    web.close()
    with pytest.raises(DownloadError, match=r"could not be reached"):
        fetch_file(f"{web.url}/none.tgz", tmp_path / "none.tgz")


def test_why_a_server_was_not_reached_is_said_in_the_apps_words():
    import socket
    import urllib.error

    from core.download import why_unreachable

    offline = "its address could not be looked up, so this machine seems to be offline: check this machine's"
    assert why_unreachable(urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))).startswith(offline)

    class DDGSException(Exception):  # the image search library's own, as it words an offline machine
        pass

    raw = "DNSError: DNSError('error sending request for url (https://duckduckgo.com/): client error (Connect)')"
    assert why_unreachable(DDGSException(raw)).startswith(offline)
    assert why_unreachable(DDGSException("Ratelimit: 202 https://duckduckgo.com")).startswith(
        "it is refusing requests for now (a rate limit)")
    assert why_unreachable(TimeoutError("timed out")).startswith("it did not answer in time")


def test_unpack_refuses_a_member_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(DownloadError, match="not a readable archive"):
        unpack(archive, tmp_path / "into")
    assert not (tmp_path / "outside.txt").exists() and not archive.exists()
