"""Files a session makes before it renders: start frames, frame-0 candidates and previews.

They live in the runs folder beside the run folders, under `_starts/` and `_previews/`, always
under names of our own: an upload is data, never a path.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from PIL import Image

from core import settings
from core.atomic import atomic_path

CANDIDATES = 4  # start frames offered from text, as the original author picked from a grid


def starts_dir() -> Path:
    return settings.runs_dir() / "_starts"


def save_start_frame(image: Image.Image) -> Path:
    """Keep `image` as a start frame and return its path."""
    folder = starts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.png"
    with atomic_path(path) as temporary:
        image.save(temporary, format="PNG")
    return path


def candidates_dir(owner: str) -> Path:
    """Where the candidates job of session `owner` writes `0.png`... (see core.dream.queue)."""
    return starts_dir() / owner / "candidates"


def candidate_frames(owner: str) -> list[Path]:
    folder = candidates_dir(owner)
    return sorted(folder.glob("*.png")) if folder.is_dir() else []


def clear_candidates(owner: str) -> None:
    for old in candidate_frames(owner):
        old.unlink(missing_ok=True)


def new_preview_dir() -> Path:
    return settings.runs_dir() / "_previews" / uuid.uuid4().hex[:12]
