"""One render at a time per server: a queue and one worker thread that owns the GPU.

Streamlit runs each browser tab in its own thread and kills a script's work when a widget moves,
so renders run here instead: the page submits a job and polls it. The GPU worker is the only
thread that calls the pipelines, and no worker touches Streamlit. Previews need no model, so
they run on a lane of their own and never wait behind a render. Each session (owner) may start
`per_owner` renders and candidate sets, resumes included; it holds one preview at a time. A job
keeps running when its tab reloads or closes; its frames are on disk, so even a server restart
loses nothing (`core.dream.render` resumes the run folder): a render waiting in the queue has its
stage and manifest written when it is queued, so after a restart it is listed with the stopped
ones, not started, to be started again. Finished jobs beyond the last few of a session are let
go, and a finished job keeps no frame.
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

from core.device import one_core_for_this_thread
from core.dream.pipelines import DreamPipelines
from core.dream.plan import make_plan
from core.dream.preview import preview_stage
from core.dream.render import Progress, render
from core.dream.run import RunFolder
from core.dream.scratch import CANDIDATES
from core.dream.stage import Stage
from core.errors import GiroError


class QueueError(GiroError):
    """A job the queue will not take: the session has used its renders."""


@dataclass
class RenderJob:
    id: str
    kind: str  # "render", "candidates" (four start frames to choose from) or "preview" (no model)
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

    @property
    def counts(self) -> bool:
        """Whether it uses up one of its owner's renders: all but previews and jobs that failed
        before they made anything (a missing model is not the guest's render)."""
        return self.kind != "preview" and not (self.status == "failed" and self.progress is None)


# Which worker thread runs each kind of job.
LANES = {"render": "dream-worker", "candidates": "dream-worker", "preview": "preview-worker"}
KEEP_FINISHED = 3  # finished jobs a session keeps, per kind: what its page shows


class RenderQueue:
    """Jobs run in the order they came, one at a time per lane (see LANES)."""

    def __init__(self, load: Callable[[str, str], DreamPipelines], per_owner: int = 5):
        self._load = load  # (model, vae) -> pipelines (cached by the caller)
        self.per_owner = per_owner
        self._jobs: list[RenderJob] = []
        self._spent: dict[str, int] = {}  # renders used by each session's jobs let go
        self._changed = threading.Condition()
        for lane in sorted(set(LANES.values())):
            threading.Thread(target=self._work, args=(lane,), name=lane, daemon=True).start()

    def submit(self, kind: str, stage: Stage, run_dir: Path, owner: str) -> RenderJob:
        """Queue a job, or return the one already working on `run_dir`.

        Raises QueueError when `owner` has used its renders; a new preview cancels the owner's last.
        """
        with self._changed:
            for job in self._jobs:
                if job.run_dir == run_dir and not job.finished:
                    return job  # already queued or running: watch that one
            if kind == "preview":
                for job in self._jobs:
                    if job.owner == owner and job.kind == "preview" and not job.finished:
                        job.cancel.set()
            elif self._used(owner) >= self.per_owner:
                raise QueueError(f"this session has used its {self.per_owner} renders")
            if kind == "render" and RunFolder(run_dir).manifest() is None:
                RunFolder(run_dir).reserve(stage)  # a restart finds it, not started
            job = RenderJob(uuid.uuid4().hex[:12], kind, stage, run_dir, owner)
            self._jobs.append(job)
            self._let_go(owner, kind)
            self._changed.notify_all()
            return job

    def _let_go(self, owner: str, kind: str) -> None:
        """Drop the session's finished jobs of `kind` but the newest KEEP_FINISHED (300 preview
        clicks kept 300 jobs), counting those that used a render."""
        finished = [j for j in self._jobs if j.owner == owner and j.kind == kind and j.finished]
        for job in finished[:-KEEP_FINISHED]:
            self._jobs.remove(job)
            self._spent[owner] = self._spent.get(owner, 0) + job.counts

    def left(self, owner: str) -> int:
        """Renders `owner` may still start."""
        with self._changed:
            return max(0, self.per_owner - self._used(owner))

    def _used(self, owner: str) -> int:
        return self._spent.get(owner, 0) + sum(1 for job in self._jobs if job.owner == owner and job.counts)

    def get(self, job_id: str) -> RenderJob | None:
        with self._changed:
            return next((job for job in self._jobs if job.id == job_id), None)

    def wait(self, job: RenderJob, timeout: float) -> bool:
        """Whether `job` has finished, waiting up to `timeout` seconds for it to."""
        with self._changed:
            return self._changed.wait_for(lambda: job.finished, timeout)

    def jobs(self) -> list[RenderJob]:
        with self._changed:
            return list(self._jobs)

    def latest(self, owner: str, kind: str = "render") -> RenderJob | None:
        """This session's newest job of `kind`: how a reloaded page finds its render again."""
        mine = [job for job in self.jobs() if job.owner == owner and job.kind == kind]
        return mine[-1] if mine else None

    def gpu_busy(self) -> bool:
        """Whether a render or a set of candidates is running: the device is taken."""
        with self._changed:
            return any(j.status == "running" and LANES[j.kind] == LANES["render"] for j in self._jobs)

    def active_dirs(self) -> set[Path]:
        return {job.run_dir for job in self.jobs() if not job.finished}

    def position(self, job: RenderJob) -> int:
        """0 while running, n when n jobs run or wait ahead of it in its lane."""
        with self._changed:
            waiting = [j for j in self._jobs if not j.finished and LANES[j.kind] == LANES[job.kind]]
            return waiting.index(job) if job in waiting else 0

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None:
            job.cancel.set()
            with self._changed:
                if job.status == "queued":
                    job.status = "cancelled"

    def _next(self, lane: str) -> RenderJob:
        with self._changed:
            while True:
                job = next((j for j in self._jobs if j.status == "queued" and LANES[j.kind] == lane), None)
                if job is not None:
                    job.status = "running"
                    return job
                self._changed.wait()

    def _work(self, lane: str) -> None:
        while True:
            job = self._next(lane)
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
                if job.progress is not None:  # the page reads a finished job from disk
                    job.progress = job.progress.without_picture()
                self._changed.notify_all()

    def _run(self, job: RenderJob) -> None:
        if job.cancel.is_set():  # cancelled while it waited
            return
        if job.kind == "preview":
            with one_core_for_this_thread():  # small ops
                self._follow(job, render(preview_stage(job.stage), job.run_dir, None, job.cancel))
            return
        pipelines = self._load(job.stage.model(), job.stage.render.vae)
        if job.kind == "candidates":
            make_candidates(pipelines, job.stage, job.run_dir, job.cancel)
            return
        self._follow(job, render(job.stage, job.run_dir, pipelines, job.cancel))

    @staticmethod
    def _follow(job: RenderJob, steps) -> None:
        for step in steps:
            if isinstance(step, Progress):
                job.progress = step


def make_candidates(pipelines: DreamPipelines, stage: Stage, folder: Path, cancel: threading.Event) -> None:
    """Frame-0 candidates from the first prompt, seeds seed..seed+3, as `folder`/0.png..3.png."""
    from core.atomic import atomic_path
    from core.dream.zoom import to_image, to_uint8

    r, first = stage.render, make_plan(stage)[0]  # frame 0 as the render would draw it, seed aside
    embeds = pipelines.encode(first.prompt, first.negative_prompt)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(CANDIDATES):
        image = pipelines.first_frame(embeds, r.width, r.height, first.steps, first.guidance, r.seed + n, cancel.is_set)
        if image is None:
            return
        with atomic_path(folder / f"{n}.png") as temporary:
            to_image(to_uint8(image)).save(temporary, format="PNG")
