"""Files a session makes before it renders: start frames, frame-0 candidates and previews.

They live in the runs folder beside the run folders, under `_starts/` and `_previews/`, always
under names of our own: an upload is data, never a path.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Collection
from pathlib import Path

from PIL import Image

from core import settings
from core.atomic import atomic_path
from core.dream.run import list_runs

CANDIDATES = 4  # start frames offered from text, as the original author picked from a grid
KEEP_PREVIEWS = 2  # per session: the one on the page and the one being made
# Every session's start frames, candidates and previews together stay under this, the oldest
# going first; a session's scratch untouched this long goes whole (guests who never come back).
SCRATCH_QUOTA_MB = 1000
SCRATCH_MAX_HOURS = 24


def starts_dir() -> Path:
    return settings.runs_dir() / "_starts"


def save_start_frame(image: Image.Image, owner: str, in_use: Collection[str] = ()) -> Path:
    """Keep `image` (at most START_FRAME_MAX_SIDE a side) as session `owner`'s start frame.

    The session's earlier start frames go, unless a run folder's stage or a path in `in_use`
    (the stages waiting in the queue) still names them.
    """
    folder = starts_dir() / owner
    folder.mkdir(parents=True, exist_ok=True)
    image = image.copy()
    image.thumbnail((settings.START_FRAME_MAX_SIDE, settings.START_FRAME_MAX_SIDE), Image.Resampling.LANCZOS)
    path = folder / f"{uuid.uuid4().hex}.png"
    with atomic_path(path) as temporary:
        image.save(temporary, format="PNG")
    used = _named_by_runs() | set(in_use) | {str(path)}
    for old in folder.glob("*.png"):
        if str(old) not in used:
            old.unlink(missing_ok=True)
    prune(used)
    return path


def _named_by_runs() -> set[str]:
    """The start frames that run folders name: a resume reads them again."""
    return {m.stage["render"].get("first_image", "") for _, m in list_runs(settings.runs_dir())}


def prune(keep: Collection[str] | None = None) -> None:
    """Keep the scratch of every session within the server's quota: a session's folder untouched
    for SCRATCH_MAX_HOURS goes, then the oldest files until the whole is under SCRATCH_QUOTA_MB.
    Never a file in `keep`, which must hold the start frames run folders name (None: those alone;
    a caller that has just listed them passes its set instead of having every manifest read again)."""
    keep = _named_by_runs() if keep is None else set(keep)
    now = time.time()
    files, total = [], 0  # the files that may go; the size of all of them, kept ones included
    for area in (starts_dir(), settings.runs_dir() / "_previews"):
        for session in (area.iterdir() if area.is_dir() else ()):
            found = [(p.stat().st_mtime, p.stat().st_size, p) for p in session.rglob("*") if p.is_file()]
            # An empty folder (a preview about to be written) is as new as the folder itself.
            newest = max(mtime for mtime, _, _ in found) if found else session.stat().st_mtime
            if now - newest > SCRATCH_MAX_HOURS * 3600 and not any(str(p) in keep for *_, p in found):
                shutil.rmtree(session, ignore_errors=True)
                continue
            files += [entry for entry in found if str(entry[2]) not in keep]
            total += sum(size for _, size, _ in found)
    for _, size, path in sorted(files):  # oldest first
        if total <= SCRATCH_QUOTA_MB * 1_000_000:
            break
        path.unlink(missing_ok=True)
        total -= size


def candidates_dir(owner: str) -> Path:
    """Where the candidates job of session `owner` writes `0.png`... (see core.dream.queue)."""
    return starts_dir() / owner / "candidates"


def candidate_frames(owner: str) -> list[Path]:
    folder = candidates_dir(owner)
    return sorted(folder.glob("*.png")) if folder.is_dir() else []


def clear_candidates(owner: str) -> None:
    for old in candidate_frames(owner):
        old.unlink(missing_ok=True)


def new_preview_dir(owner: str) -> Path:
    """A folder for session `owner`'s next preview; its older previews go, but the last KEEP_PREVIEWS."""
    folder = settings.runs_dir() / "_previews" / owner
    if folder.is_dir():
        older = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in older[KEEP_PREVIEWS - 1:]:
            shutil.rmtree(old, ignore_errors=True)
    prune()
    return folder / uuid.uuid4().hex[:12]
