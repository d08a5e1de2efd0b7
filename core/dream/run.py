"""A run folder: `frames/00000.png ...`, `manifest.json`, `stage.toml`, `loop.gif`, `loop.mp4`,
`frames.zip`.

Every file is written atomically, so whatever is in the folder after a crash is whole: a frame
on disk is a finished frame, and the manifest always parses.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.atomic import atomic_path, sync, temporary_path, write_json
from core.dream.plan import make_plan
from core.dream.stage import Stage, stage_to_toml
from core.errors import RunError, StageError

MANIFEST = "manifest.json"
GIF, MP4, ZIP = "loop.gif", "loop.mp4", "frames.zip"
# Changing these does not change a single frame, so a resumed run may change them.
RESUMABLE_FIELDS = {"fps"}
# Bumped when the same stage would draw different frames (2: the loop curve became frame 0's
# share, strength tapers, colours are held on the input; 3: the colour hold's LAB conversion
# takes its powers as exp(p log x), which moves a value by a rounding now and then; 4: the camera
# eases back to the first segment's over the loop window; 5: frame 0 is placed sharp in the loop
# window, and its detail takes over at once halfway; 6: frame 0's detail spreads from its box's
# centre instead, and a frame placed ahead is low-passed by its shrink, every shrink; 7: the colour
# hold's LAB conversion takes its linear steps as matrix products, another rounding now and then;
# 8: with cadence, the loop curve runs over the window up to its last diffused frame; 9: frame 0's
# full weight in the loop window reaches two pixels past its box; 10: the zoom magnifies both axes
# alike, so a frame that is not square keeps its shape; 11: the Gaussian blur sums shifted slices
# instead of convolving, a rounding now and then): a run is resumed only by its own engine.
ENGINE = 11


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("torch", "diffusers", "transformers", "numpy", "pillow", "scikit-image"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


@dataclass
class Manifest:
    """`manifest.json`: how a run was made and how far it got. Read and written only through here."""

    stage: dict[str, Any]  # Stage.to_dict()
    model: dict[str, Any]  # id, revision, device, dtype, preview
    frames_total: int
    seeds: list[int]
    frame_seconds: list[float | None]  # wall time of each frame; None until rendered
    versions: dict[str, str] = field(default_factory=dict)
    status: str = "rendering"  # queued (not started), rendering, cancelled, complete
    created: str = ""
    updated: str = ""
    frames_done: int = 0
    seam: float | None = None  # figures["seam"], where runs before `figures` kept it
    figures: dict[str, float | None] = field(default_factory=dict)  # see core.dream.figures
    step_distances: list[float] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    engine: int = 1  # see ENGINE; manifests from before it have none

    @classmethod
    def new(cls, stage: Stage, model: dict[str, Any]) -> Manifest:
        total = stage.total_frames
        return cls(
            stage=stage.to_dict(), model=model, frames_total=total,
            seeds=[p.seed for p in make_plan(stage)], frame_seconds=[None] * total,
            versions=library_versions(), created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), engine=ENGINE,
        )

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at `path`; None if there is none; StageError (one line) if it is damaged."""
        damaged = f"{path.parent.name}/{path.name} is damaged: start a new run folder"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise StageError(damaged) from error
        known = {f.name for f in fields(cls)}
        required = {"stage", "model", "frames_total", "seeds", "frame_seconds"}
        if not isinstance(data, dict) or not required <= data.keys():
            raise StageError(damaged)
        manifest = cls(**{k: v for k, v in data.items() if k in known})
        if not (isinstance(manifest.stage, dict) and isinstance(manifest.model, dict)
                and isinstance(manifest.frames_total, int) and isinstance(manifest.frames_done, int)
                and isinstance(manifest.stage.get("segment"), list) and manifest.stage["segment"]):
            raise StageError(damaged)
        return manifest

    def save(self, path: Path) -> None:
        self.updated = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        write_json(path, asdict(self))

    @property
    def title(self) -> str:
        """The first prompt: what the ride starts as."""
        return str(self.stage["segment"][0].get("prompt", ""))

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass
class RunFolder:
    path: Path

    @property
    def frames_dir(self) -> Path:
        return self.path / "frames"

    def frame_path(self, index: int) -> Path:
        return self.frames_dir / f"{index:05d}.png"

    @classmethod
    def create(cls, runs_dir: Path, title: str) -> RunFolder:
        """A new run folder named by time and the first prompt, made on disk so that it is this run's alone.

        Two guests may press Render in the same second with the same prompt: a random suffix makes a
        clash rare, and making the folder with exist_ok=False makes it impossible.
        """
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32]
        runs_dir.mkdir(parents=True, exist_ok=True)
        while True:
            path = runs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{uuid.uuid4().hex[:6]}"
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return cls(path)

    def manifest(self) -> Manifest | None:
        return Manifest.load(self.path / MANIFEST)

    @contextmanager
    def writing(self, name: str) -> Iterator[None]:
        """Turn a failed write (a full disk) into one line; the files already written stay whole."""
        try:
            yield
        except OSError as error:
            remedy = ("free some space and run again to resume" if error.errno in (errno.ENOSPC, errno.EDQUOT)
                      else "run again to resume, or pick a folder this user can write")
            raise RunError(
                f"cannot write {name} in {self.path.name}: {error.strerror or error}; the frames so far "
                f"are kept: {remedy}"
            ) from error

    def write_manifest(self, manifest: Manifest) -> None:
        with self.writing(MANIFEST):
            manifest.save(self.path / MANIFEST)

    def reserve(self, stage: Stage) -> None:
        """A render waiting in the queue: its stage and a manifest saying it has not started, so a
        server killed before it starts still lists it (the render's `open` takes it over)."""
        manifest = Manifest.new(stage, {"id": stage.model(), "preview": False})
        manifest.status = "queued"
        with self.writing("stage.toml"):
            self.path.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path / "stage.toml") as temporary:
                temporary.write_text(stage_to_toml(stage), encoding="utf-8")
        self.write_manifest(manifest)

    def open(self, stage: Stage, model: dict[str, Any]) -> Manifest:
        """Start a new run, or check that an existing one renders the same frames and resume it."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"{self.path.name} is a file, not a run folder: pick a folder for the run")
        stage_dict = stage.to_dict()
        manifest = self.manifest()
        if manifest is not None and manifest.status == "queued":  # reserved, never started: nothing to resume
            manifest = None
        if manifest is not None:
            if _frame_defining(manifest.stage) != _frame_defining(stage_dict) or (
                manifest.model.get("id") != model["id"]
            ):
                raise StageError(
                    f"{self.path.name} already holds a different render: pick a new output folder "
                    "or render the same stage and model to resume it"
                )
            if manifest.engine != ENGINE and not model.get("preview"):  # a preview starts over anyway
                raise StageError(
                    f"{self.path.name} was drawn by an older version of the loop, which this one cannot "
                    "continue frame for frame: render it into a new output folder"
                )
            manifest.stage = stage_dict
            manifest.status, manifest.engine = "rendering", ENGINE
            manifest.model.update(model)
        else:
            manifest = Manifest.new(stage, model)
        with self.writing("stage.toml"):
            # A preview keeps no frames (its MP4 is streamed): no empty folder for them.
            (self.path if model.get("preview") else self.frames_dir).mkdir(parents=True, exist_ok=True)
            # Left by a kill mid-write: a frame, the streamed MP4, the GIF, the zip, the manifest.
            for stale in [*self.frames_dir.glob(".*.part.png"), *self.path.glob(".*.part.*")]:
                stale.unlink(missing_ok=True)
            with atomic_path(self.path / "stage.toml") as temporary:
                temporary.write_text(stage_to_toml(stage), encoding="utf-8")
        manifest.frames_done = self.frames_done(manifest.frames_total)
        self.write_manifest(manifest)
        return manifest

    def frames_done(self, total: int) -> int:
        """Frames 0..n-1 all on disk; frames are written in order, each atomically."""
        done = 0
        while done < total and self.frame_path(done).is_file():
            done += 1
        return done

    def write_frame(self, index: int, frame: np.ndarray) -> Path:
        """Frame `index` ((H, W, 3) uint8) as a PNG on disk under a temporary name (see
        `core.atomic`); `place_frame` gives it its own. Safe from several threads at once."""
        temporary = temporary_path(self.frame_path(index))
        with self.writing(self.frame_path(index).name):
            try:
                Image.fromarray(frame).save(temporary, format="PNG", compress_level=3)
                sync(temporary)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        return temporary

    def place_frame(self, temporary: Path, index: int) -> Path:
        """A frame written by `write_frame` under its own name: from now on it counts as drawn."""
        path = self.frame_path(index)
        with self.writing(path.name):
            os.replace(temporary, path)
        return path

    def load_frame(self, index: int) -> Image.Image:
        with Image.open(self.frame_path(index)) as image:
            return image.convert("RGB")

    def frame_paths(self, total: int) -> list[Path]:
        return [self.frame_path(i) for i in range(total)]

    def write_frames_zip(self, total: int) -> Path:
        """All frames in one zip for download, written once when the render completes."""
        path = self.path / ZIP
        with self.writing(ZIP), atomic_path(path) as temporary:
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:  # PNGs don't shrink
                for frame in self.frame_paths(total):
                    archive.write(frame, f"frames/{frame.name}")
        return path

    def frames_zip(self, total: int) -> Path:
        """The frames' zip; made now for a run completed before renders wrote one."""
        path = self.path / ZIP
        return path if path.is_file() else self.write_frames_zip(total)


def _frame_defining(stage_dict: dict[str, Any]) -> dict[str, Any]:
    # A run from before a field existed was made with that field's default.
    render = {**Stage.default_render_dict(), **stage_dict["render"]}
    if isinstance(render["colour_coherence"], bool):  # before the modes, as the stage reader reads it
        render["colour_coherence"] = "frame0" if render["colour_coherence"] else "off"
    render = {k: v for k, v in render.items() if k not in RESUMABLE_FIELDS}
    return {"render": render, "segment": stage_dict["segment"]}


def list_runs(runs_dir: Path) -> list[tuple[Path, Manifest]]:
    """Run folders with a readable manifest, newest first."""
    runs = []
    for manifest_path in runs_dir.glob(f"*/{MANIFEST}"):
        try:
            manifest = Manifest.load(manifest_path)
        except (OSError, StageError):
            continue
        if manifest is not None:
            runs.append((manifest_path.parent, manifest))
    return sorted(runs, key=lambda run: run[1].created, reverse=True)
