"""Write files so that a reader never sees half of one: write beside it, then rename over it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces `final` in one step.

    The temporary name keeps the suffix (encoders pick the format from it) and starts with a dot
    plus ends in `.part` before the suffix, so no reader mistakes it for a finished file.
    """
    final = Path(final)
    temporary = final.with_name(f".{final.stem}.part{final.suffix}")
    try:
        yield temporary
        with temporary.open("rb+") as handle:  # the bytes reach the disk before the rename
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
