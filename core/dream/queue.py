"""One render at a time per server: a queue and one worker thread that owns the GPU.

Streamlit runs each browser tab in its own thread and kills a script's work when a widget moves,
so renders run here instead: the page submits a job and polls it. The worker is the only thread
that calls the pipelines, and it never touches Streamlit. A job keeps running when its tab reloads or closes; its frames are on disk, so even
a server restart loses nothing (`core.dream.render` resumes the run folder).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.dream.pipelines import DreamPipelines
from core.dream.render import Progress, render
from core.dream.scratch import CANDIDATES
from core.dream.stage import Stage
from core.errors import GiroError


@dataclass
class RenderJob:
    id: str
    kind: str  # "render", or "candidates" (four start frames to choose from)
    stage: Stage
    run_dir: Path
    owner: str  # the session that asked; used for its cap and its place in the queue
    status: str = "queued"  # queued, running, done, cancelled, failed
    progress: Progress | None = None
    message: str = ""  # the one-line reason when failed
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    submitted: float = field(default_factory=time.time)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")


class RenderQueue:
    """Jobs run one after another, in the order they came, on one worker thread."""

    def __init__(self, load: Callable[[str], DreamPipelines]):
        self._load = load  # model id or folder -> pipelines (cached by the caller)
        self._jobs: list[RenderJob] = []
        self._changed = threading.Condition()
        self._worker = threading.Thread(target=self._work, name="dream-worker", daemon=True)
        self._worker.start()

    def submit(self, kind: str, stage: Stage, run_dir: Path, owner: str) -> RenderJob:
        with self._changed:
            for job in self._jobs:
                if job.run_dir == run_dir and not job.finished:
                    return job  # already queued or running: watch that one
            job = RenderJob(uuid.uuid4().hex[:12], kind, stage, run_dir, owner)
            self._jobs.append(job)
            self._changed.notify_all()
            return job

    def get(self, job_id: str) -> RenderJob | None:
        with self._changed:
            return next((job for job in self._jobs if job.id == job_id), None)

    def jobs(self) -> list[RenderJob]:
        with self._changed:
            return list(self._jobs)

    def latest(self, owner: str, kind: str = "render") -> RenderJob | None:
        """This session's newest job of `kind`: how a reloaded page finds its render again."""
        mine = [job for job in self.jobs() if job.owner == owner and job.kind == kind]
        return mine[-1] if mine else None

    def active_dirs(self) -> set[Path]:
        return {job.run_dir for job in self.jobs() if not job.finished}

    def position(self, job: RenderJob) -> int:
        """0 while running, n when n jobs run or wait ahead of it."""
        with self._changed:
            waiting = [j for j in self._jobs if not j.finished]
            return waiting.index(job) if job in waiting else 0

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None:
            job.cancel.set()
            with self._changed:
                if job.status == "queued":
                    job.status = "cancelled"

    def _next(self) -> RenderJob:
        with self._changed:
            while True:
                job = next((j for j in self._jobs if j.status == "queued"), None)
                if job is not None:
                    job.status = "running"
                    return job
                self._changed.wait()

    def _work(self) -> None:
        while True:
            job = self._next()
            try:
                self._run(job)
                status = "cancelled" if job.cancel.is_set() else "done"
            except GiroError as error:
                status, job.message = "failed", str(error)
            except Exception as error:  # a bug: keep the worker alive, log it, tell the page
                traceback.print_exc(file=sys.stderr)
                status, job.message = "failed", f"the render stopped on an internal error ({type(error).__name__})"
            with self._changed:
                job.status = "cancelled" if job.cancel.is_set() else status
                self._changed.notify_all()

    def _run(self, job: RenderJob) -> None:
        if job.cancel.is_set():  # cancelled while it waited
            return
        pipelines = self._load(job.stage.model())
        if job.kind == "candidates":
            make_candidates(pipelines, job.stage, job.run_dir, job.cancel)
            return
        for progress in render(job.stage, job.run_dir, pipelines, job.cancel):
            job.progress = progress


def make_candidates(pipelines: DreamPipelines, stage: Stage, folder: Path, cancel: threading.Event) -> None:
    """Frame-0 candidates from the first prompt, seeds seed..seed+3, as `folder`/0.png..3.png."""
    from core.atomic import atomic_path

    r, first = stage.render, stage.segments[0]
    embeds = pipelines.encode(first.prompt)
    folder.mkdir(parents=True, exist_ok=True)
    guidance = first.guidance if first.guidance is not None else r.guidance
    for n in range(CANDIDATES):
        image = pipelines.first_frame(embeds, r.width, r.height, r.steps, guidance, r.seed + n, cancel.is_set)
        if image is None:
            return
        with atomic_path(folder / f"{n}.png") as temporary:
            image.save(temporary, format="PNG")
