"""A run folder: `frames/00000.png ...`, `manifest.json`, `stage.toml`, `loop.gif`, `loop.mp4`.

Every file is written atomically, so whatever is in the folder after a crash is whole: a frame
on disk is a finished frame, and the manifest always parses.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image

from core.atomic import atomic_path, write_json
from core.dream.stage import Stage, stage_to_toml
from core.errors import RunError, StageError

MANIFEST = "manifest.json"
GIF, MP4 = "loop.gif", "loop.mp4"
# Changing these does not change a single frame, so a resumed run may change them.
RESUMABLE_FIELDS = {"fps"}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("torch", "diffusers", "transformers", "numpy", "pillow", "scikit-image"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


@dataclass
class RunFolder:
    path: Path

    @property
    def frames_dir(self) -> Path:
        return self.path / "frames"

    def frame_path(self, index: int) -> Path:
        return self.frames_dir / f"{index:05d}.png"

    def manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise StageError(f"{self.path.name}/{MANIFEST} is damaged: start a new run folder") from error

    @contextmanager
    def writing(self, name: str) -> Iterator[None]:
        """Turn a failed write (a full disk) into one line; the files already written stay whole."""
        try:
            yield
        except OSError as error:
            raise RunError(
                f"cannot write {name} in {self.path}: {error.strerror or error}; the frames so far "
                "are kept: free some space and run again to resume"
            ) from error

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with self.writing(MANIFEST):
            write_json(self.path / MANIFEST, manifest)

    def open(self, stage: Stage, model: dict[str, Any]) -> dict[str, Any]:
        """Start a new run, or check that an existing one renders the same frames and resume it."""
        stage_dict = stage.to_dict()
        manifest = self.manifest()
        if manifest is not None:
            if _frame_defining(manifest["stage"]) != _frame_defining(stage_dict) or (
                manifest["model"]["id"] != model["id"]
            ):
                raise StageError(
                    f"{self.path} already holds a different render: pick a new output folder "
                    "or render the same stage and model to resume it"
                )
            manifest["stage"] = stage_dict
            manifest["status"] = "rendering"
            manifest["model"].update(model)
        else:
            total = stage.total_frames
            manifest = {
                "status": "rendering",
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "stage": stage_dict,
                "model": model,
                "frames_total": total,
                "frames_done": 0,
                "seeds": [stage.render.seed + i for i in range(total)],
                "frame_seconds": [None] * total,
                "versions": library_versions(),
                "seam": None,
                "step_distances": None,
                "outputs": {},
            }
        with self.writing("stage.toml"):
            self.frames_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.frames_dir.glob(".*.part.png"):  # left by a kill mid-write
                stale.unlink()
            with atomic_path(self.path / "stage.toml") as temporary:
                temporary.write_text(stage_to_toml(stage), encoding="utf-8")
        manifest["frames_done"] = self.frames_done(manifest["frames_total"])
        self.write_manifest(manifest)
        return manifest

    def frames_done(self, total: int) -> int:
        """Frames 0..n-1 all on disk; frames are written in order, each atomically."""
        done = 0
        while done < total and self.frame_path(done).is_file():
            done += 1
        return done

    def save_frame(self, index: int, image: Image.Image) -> Path:
        path = self.frame_path(index)
        with self.writing(path.name), atomic_path(path) as temporary:
            image.save(temporary, format="PNG", compress_level=3)
        return path

    def load_frame(self, index: int) -> Image.Image:
        with Image.open(self.frame_path(index)) as image:
            return image.convert("RGB")


def _frame_defining(stage_dict: dict[str, Any]) -> dict[str, Any]:
    render = {k: v for k, v in stage_dict["render"].items() if k not in RESUMABLE_FIELDS}
    return {"render": render, "segment": stage_dict["segment"]}


def list_runs(runs_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Run folders with a readable manifest, newest first."""
    runs = []
    for manifest_path in runs_dir.glob(f"*/{MANIFEST}"):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        runs.append((manifest_path.parent, manifest))
    return sorted(runs, key=lambda run: run[1].get("created", ""), reverse=True)
