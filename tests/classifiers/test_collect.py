"""core.classifiers.collect: the image search stubbed at the network boundary; verification and de-duplication real."""

from __future__ import annotations

import io

import pytest
import numpy as np
from PIL import Image

from core.classifiers.collect import collect, main, parse_query
from core.errors import GiroError


def jpeg(seed: int, size=(160, 120)) -> bytes:
    """A distinct photo per seed: a random coarse pattern, as different as two real photos."""
    blocks = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


WEB = {
    "http://img/road1.jpg": jpeg(1), "http://img/road2.jpg": jpeg(2),
    "http://img/road1-copy.jpg": jpeg(1), "http://img/broken.jpg": jpeg(3)[:200],
    "http://img/page.html": b"<html>not an image</html>", "http://img/icon.jpg": jpeg(4, (40, 40)),
    "http://img/mtb1.jpg": jpeg(5), "http://img/mtb2.jpg": jpeg(6), "http://img/mtb3.jpg": jpeg(7),
}
RESULTS = {
    "road bike": ["http://img/road1.jpg", "http://img/road1-copy.jpg", "http://img/broken.jpg",
                  "http://img/page.html", "http://img/icon.jpg", "http://img/road2.jpg",
                  "http://img/timeout.jpg"],
    "mountain bike": ["http://img/mtb1.jpg", "http://img/road2.jpg", "http://img/mtb2.jpg",
                      "http://img/mtb3.jpg"],
}


def fetch(url: str) -> bytes:
    if url not in WEB:
        raise TimeoutError("timed out")
    return WEB[url]


def test_verified_distinct_images_per_class(tmp_path):
    counts = collect(tmp_path, ["Road=road bike", "MTB=mountain bike"], per_class=2,
                     search=lambda q, n: RESULTS[q], fetch=fetch, log=lambda _: None)
    assert counts == {"Road": 2, "MTB": 2}
    road = sorted((tmp_path / "Road").iterdir())
    assert len(road) == 2 and all(p.suffix == ".jpg" and "road" not in p.name for p in road)
    assert len(list((tmp_path / "MTB").iterdir())) == 2  # road2 is a duplicate across classes


def test_tops_up_without_duplicating(tmp_path):
    search = lambda q, n: RESULTS[q]  # noqa: E731
    collect(tmp_path, ["MTB=mountain bike"], per_class=1, search=search, fetch=fetch, log=lambda _: None)
    counts = collect(tmp_path, ["MTB=mountain bike"], per_class=3, search=search, fetch=fetch,
                     log=lambda _: None)
    assert counts == {"MTB": 3}


@pytest.mark.parametrize("bad", ["../x=road", "=road", "a/b=road", "Road="])
def test_folder_names_are_checked(bad):
    with pytest.raises(GiroError, match="not a usable class"):
        parse_query(bad)


def test_parse_query():
    assert parse_query("TT=time trial bike") == ("TT", "time trial bike")
    assert parse_query("road bike") == ("road bike", "road bike")


def test_search_failure_is_one_line(tmp_path, monkeypatch, capsys):
    def down(query, n):
        raise ConnectionError("no route to host")

    monkeypatch.setattr("core.classifiers.collect.search_images", down)
    assert main([str(tmp_path), "road bike"]) == 2
    assert capsys.readouterr().err == ("error: the image search (DuckDuckGo) could not be reached: no connection could "
                                       "be made: check this machine's internet connection and run the set-up again\n")
    assert not (tmp_path / "road bike").exists()  # no empty class folder to pass for a class
