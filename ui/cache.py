"""Process-wide caches of heavy, thread-safe objects: the only `st.cache_resource` in the app.

`st.cache_resource` is shared by every session (browser tab). Whatever is cached here must be
safe to use from many threads at once; each cached object documents how it is.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from core import settings
from core.classifiers import tasks
from core.device import DeviceInfo, describe_device, pick_device, pick_dtype

if TYPE_CHECKING:  # heavy imports wait until a page needs them: Home stays quick to open
    from core.classifiers.classify import Predictor
    from core.dream.live import LiveHall
    from core.dream.queue import RenderQueue
    from core.classifiers.faces import FaceEmbedder, StarGallery
    from core.setup_job import SetupJob
    from core.classifiers.subject import SubjectCheck


@st.cache_resource(show_spinner=False)
def device_info() -> DeviceInfo:
    """Immutable; querying CUDA properties once is enough for the life of the server."""
    return describe_device()


@st.cache_resource(show_spinner=False)
def render_queue() -> RenderQueue:
    """One queue and one worker per server: renders take turns on the GPU."""
    from core.dream.pipelines import cached_pipelines
    from core.dream.queue import RenderQueue

    device, compile = pick_device(), settings.dream_compile()
    return RenderQueue(lambda model, vae: cached_pipelines(model, device, pick_dtype(device), vae, compile),
                       per_owner=settings.dream_renders_per_session())


@st.cache_resource(show_spinner=False)
def live_hall() -> LiveHall:
    """The server's one live stream (see core.dream.live: every method is thread-safe). A render
    has priority: the stream waits while the queue runs one."""
    from core.dream.live import LiveHall
    from core.dream.pipelines import cached_pipelines

    device, compile = pick_device(), settings.dream_compile()
    return LiveHall(lambda model, vae: cached_pipelines(model, device, pick_dtype(device), vae, compile),
                    busy=render_queue().gpu_busy, lost_seconds=settings.live_lost_seconds(),
                    idle_seconds=settings.live_idle_seconds())


@st.cache_resource(show_spinner=False)
def setup_job() -> SetupJob:
    """The server's one run of core.setup started from a page (core.setup_job: thread-safe)."""
    from core.setup import Options
    from core.setup_job import SetupJob

    return SetupJob(Options.on(pick_device()))


@st.cache_resource(show_spinner="Loading the model...")
def _classifier(task: str, learner_version: float | None, clip: str) -> Predictor:
    """Thread-safe predictors (see core.classifiers.classify and core.classifiers.zeroshot); one per learner version."""
    from core.classifiers.classify import load_predictor
    from core.classifiers.zeroshot import load_zero_shot

    if learner_version is not None:
        return load_predictor(tasks.task(task).learner_path())
    return load_zero_shot(task, clip)


def classifier(task: tasks.Task) -> Predictor:
    """The page's predictor: its trained learner when there is one, else zero-shot CLIP.

    Keyed on the learner file's modification time, so a newly trained learner is picked up.
    Raises ModelError (not cached) when neither is on this machine.
    """
    path = task.learner_path()
    version = path.stat().st_mtime if path.is_file() else None
    return _classifier(task.name, version, settings.clip_model())


@st.cache_resource(show_spinner=False)
def _subject_check(task: str, clip: str) -> SubjectCheck | None:
    """Thread-safe as core.classifiers.zeroshot's predictor is (only read, the tokenizer behind a lock)."""
    from core.classifiers.subject import load_subject_check

    return load_subject_check(task, clip)


def subject_check(task: tasks.Task) -> SubjectCheck | None:
    """CLIP's "is this a bike at all?" where the task names a subject and CLIP is already on this
    machine (a guest's photo never starts a download); else None. ModelError: CLIP is unusable."""
    from core.status import clip_on_this_machine

    if not task.subject or not clip_on_this_machine():
        return None
    return _subject_check(task.name, settings.clip_model())


@st.cache_resource(show_spinner="Loading the face models...")
def face_embedder() -> FaceEmbedder:
    """dlib's models behind one lock (see core.classifiers.faces.FaceEmbedder)."""
    from core.classifiers.faces import FaceEmbedder

    return FaceEmbedder()


_last_gallery: dict[str, StarGallery] = {}  # each folder's newest gallery, to embed only what is new
_last_gallery_lock = threading.Lock()


@st.cache_resource(show_spinner="Reading the star gallery...", max_entries=2)
def _star_gallery(folder: str, signature: tuple) -> StarGallery:
    from core.classifiers.faces import StarGallery

    with _last_gallery_lock:
        previous = _last_gallery.get(folder)
    gallery = StarGallery(Path(folder), face_embedder(), previous)
    with _last_gallery_lock:
        _last_gallery[folder] = gallery
    return gallery


def star_gallery() -> StarGallery:
    """The gallery, embedded again only when a photo is added, removed or changed."""
    folder = tasks.task("stars").data_path()
    files = sorted(folder.glob("*/*")) if folder.is_dir() else []
    signature = tuple((str(f.relative_to(folder)), f.stat().st_mtime) for f in files if f.is_file())
    return _star_gallery(str(folder), signature)
