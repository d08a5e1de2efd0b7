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
    final = Path(final)
    temporary = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
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
