"""Fill class folders from an image search, as the fastai course does (the `ddgs` package).

    python -m core.classifiers.collect DIR "road bike" "time trial bike" "mountain bike" [--per-class 150]

A query may name its folder: "Road=road bike" fills DIR/Road. Every download is opened with the
app's own loader (broken, tiny or non-image files are dropped) and near-duplicates, within and
across classes, are dropped too. Running again tops the folders up.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from core.atomic import atomic_path
from core.download import why_unreachable
from core.errors import GiroError, ImageError
from core.images import IMAGE_SUFFIXES, load_image

MIN_SIDE = 96  # smaller images are thumbnails or icons, not training photos
MAX_DOWNLOAD_MB = 15
TIMEOUT = 15


def search_images(query: str, max_results: int) -> list[str]:
    """Image URLs for `query` from the ddgs metasearch (the network boundary)."""
    from ddgs import DDGS

    return [r["image"] for r in DDGS().images(query, max_results=max_results) if r.get("image")]


def download(url: str) -> bytes:
    """The bytes at `url`, at most MAX_DOWNLOAD_MB (the network boundary)."""
    request = urllib.request.Request(url, headers={"User-Agent": "giro-dreams/1.0 (core.classifiers.collect)"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
        return reply.read(MAX_DOWNLOAD_MB * 1024 * 1024 + 1)


def fingerprint(image: Image.Image) -> int:
    """A 64-bit difference hash: equal for resized, recompressed or lightly edited copies."""
    grey = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS), np.int16)
    bits = (grey[:, 1:] > grey[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def near(a: int, b: int, bits: int = 4) -> bool:
    return bin(a ^ b).count("1") <= bits


def parse_query(text: str) -> tuple[str, str]:
    """'Road=road bike' -> ('Road', 'road bike'); 'road bike' -> ('road bike', 'road bike')."""
    folder, _, query = text.partition("=") if "=" in text else (text, "", text)
    folder, query = folder.strip(), query.strip()
    if not query or not re.fullmatch(r"[\w][\w .'-]*", folder) or ".." in folder:
        raise GiroError(f"{text!r} is not a usable class: use letters, digits, spaces, . ' - in folder names")
    return folder, query


def collect(
    root: Path, queries: list[str], per_class: int = 150,
    search: Callable[[str, int], list[str]] | None = None,
    fetch: Callable[[str], bytes] | None = None,
    log: Callable[[str], None] = print,
    keep: Callable[[Image.Image], str | None] | None = None,
    max_side: int | None = None,
) -> dict[str, int]:
    """Top up each class folder to `per_class` verified, distinct images; returns counts per class.

    `search` and `fetch` default to the network (`search_images`, `download`). `keep(image)` may
    refuse an image with a reason (the lookalike's: not exactly one face); images are kept at most
    `max_side` pixels on their longer side.
    """
    search, fetch = search or search_images, fetch or download
    classes = [parse_query(q) for q in queries]
    seen: list[int] = []
    for folder, _ in classes:  # what is already there counts as seen
        for path in sorted((root / folder).glob("*")) if (root / folder).is_dir() else []:
            if path.suffix.lower() in IMAGE_SUFFIXES:
                try:
                    seen.append(fingerprint(load_image(path)))
                except ImageError:
                    path.unlink()
    counts = {}
    for folder, query in classes:
        target = root / folder
        have = len([p for p in target.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]) if target.is_dir() else 0
        dropped = 0
        try:
            urls = search(query, per_class * 2) if have < per_class else []
        except Exception as error:  # the search service is down, blocks us, or we are offline
            raise GiroError(f"the image search (DuckDuckGo) could not be reached: {why_unreachable(error)}") from error
        for url in urls:
            if have >= per_class:
                break
            try:
                image = load_image(fetch(url), name=url, max_mb=MAX_DOWNLOAD_MB, max_side=max_side)
            except (ImageError, OSError, ValueError) as error:  # broken file, HTTP error, time-out
                dropped += 1
                log(f"  dropped {url}: {error}")
                continue
            mark = fingerprint(image)
            if min(image.size) < MIN_SIDE or any(near(mark, other) for other in seen):
                dropped += 1
                continue
            if keep is not None and (why := keep(image)):
                dropped += 1
                log(f"  dropped {url}: {why}")
                continue
            seen.append(mark)
            name = hashlib.sha1(url.encode()).hexdigest()[:12]  # never the server's file name
            target.mkdir(parents=True, exist_ok=True)  # only now: an empty folder reads as a class
            with atomic_path(target / f"{name}.jpg") as temporary:
                image.save(temporary, format="JPEG", quality=92)
            have += 1
        counts[folder] = have
        log(f"{folder}: {have} images ({dropped} dropped)")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.classifiers.collect", description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("root", type=Path, metavar="DIR", help="the data set folder to fill")
    parser.add_argument("queries", nargs="+", metavar="QUERY", help='a search, or "Folder=search"')
    parser.add_argument("--per-class", type=int, default=150)
    args = parser.parse_args(argv)
    try:
        collect(args.root, args.queries, args.per_class)
    except GiroError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
