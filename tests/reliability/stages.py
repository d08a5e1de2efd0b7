"""Hostile stage files: every out-of-range field (from the stage tests), and what arrives by upload
from a careless editor or a prankster. Each entry is (file name, bytes, fragment of its one-line
message)."""

from __future__ import annotations

import re

from tests.dream.test_stage import GOOD, REFUSED, stage_with


def hostile_stages() -> list[tuple[str, bytes, str]]:
    # REFUSED holds regular expressions; the fragments here are plain text.
    refused = [(f"refused-{n:02d}.toml", text.encode(), plain(message))
               for n, (text, message) in enumerate(REFUSED)
               if "first_image" not in text]  # an upload's first_image is dropped: see test_security
    return refused + [
        ("latin1.toml", GOOD.replace("a road", "caf\xe9").encode("latin-1"), "is not UTF-8 text"),
        ("utf16.toml", GOOD.encode("utf-16"), "is not UTF-8 text"),
        ("binary.toml", bytes(range(256)) * 4, "is not UTF-8 text"),
        ("empty.toml", b"", "the stage needs at least one [[segment]]"),
        ("nested.toml", b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        ("big.toml", GOOD.encode() + b"# padding\n" * 20_000, "is over 100 kB"),
        ("million.toml", b'[[segment]]\nprompt = "x"\nframes = 1000000\n', "1000000 frames, over the cap"),
        ("many-segments.toml", b'[[segment]]\nprompt = "x"\nframes = 1\n' * 2500, "2500 segments, over the cap of 200"),
        ("nan.toml", stage_with("strength = nan").encode(), "render.strength must be from 0.01 to 1, got nan"),
        ("inf.toml", stage_with("zoom_px = inf").encode(), "render.zoom_px must be from -16"),
        ("huge-int.toml", stage_with("seed = 99999999999999999999").encode(), "render.seed"),
        ("nul.toml", stage_with('model = "a\\u0000b"').replace("\\u0000", "\x00").encode(), "is not valid TOML"),
        ("segment-table.toml", b"[render]\nsteps = 10\n[segment]\nprompt = 'x'\nframes = 3\n",
         "the stage needs at least one [[segment]]"),
        ("segment-list.toml", b"segment = [1, 2]\n", "segment 1 must be a table"),
        ("html.toml", b"<html><script>alert(1)</script></html>", "is not valid TOML"),
        ("json.toml", b'{"render": {}, "segment": [{"prompt": "x", "frames": 3}]}', "is not valid TOML"),
    ]


def plain(pattern: str) -> str:
    """The text a regular expression from the stage tests matches; the name part left out."""
    return re.sub(r"\\(.)", r"\1", pattern).removeprefix("the stage ")


def good_stage() -> bytes:
    """A small stage that must be accepted beside the hostile ones."""
    return stage_with('vanishing_point = [0.4, 0.6]', 'strength = 0.6').encode()
