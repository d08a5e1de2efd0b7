"""Write files so that a reader never sees half of one: write beside it, then rename over it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces `final` in one step.

    The temporary name keeps the suffix (encoders pick the format from it), starts with a dot and
    ends in `.part` before the suffix, so no reader mistakes it for a finished file; it is unique,
    so two threads writing the same file at once each write their own and the last rename wins.
    """
    temporary = temporary_path(final)
    try:
        yield temporary
        commit(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def temporary_path(final: Path) -> Path:
    """A unique hidden name beside `final` (see `atomic_path`), for a file written over time."""
    final = Path(final)
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")


def commit(temporary: Path, final: Path) -> None:
    """Put a finished temporary file in place: its bytes reach the disk before the rename."""
    sync(temporary)
    os.replace(temporary, final)


def sync(path: Path) -> None:
    """Wait until `path`'s bytes are on the disk."""
    with Path(path).open("rb+") as handle:
        os.fsync(handle.fileno())


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
