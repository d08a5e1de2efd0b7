"""core.dream.queue: renders take turns on one worker; the pipelines see no other thread."""

from __future__ import annotations

import json
import threading

import pytest

from core.dream.queue import RenderQueue
from tests.dream.conftest import UNetGuard, finished, small_stage


def test_three_renders_queue_and_each_finishes_in_its_own_folder(tiny_pipelines, tmp_path, monkeypatch):
    guard = UNetGuard(tiny_pipelines.text2img.unet, monkeypatch)
    release = threading.Event()
    queue = RenderQueue(lambda model, vae: release.wait(30) and tiny_pipelines)  # holds the first job
    stages = [small_stage(frames=(3,), loop_frames=0, seed=s) for s in (1, 2, 3)]
    jobs = []
    threads = [threading.Thread(target=lambda s=s, n=n: jobs.append(
        queue.submit("render", s, tmp_path / f"run{n}", owner=f"tab{n}"))) for n, s in enumerate(stages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(queue.position(j) for j in jobs) == [0, 1, 2]
    release.set()
    for job in jobs:
        assert finished(job, 120) and job.status == "done", job.message
    for n, stage in enumerate(stages):
        manifest = json.loads((tmp_path / f"run{n}" / "manifest.json").read_text())
        assert manifest["seeds"] == [stage.render.seed + i for i in range(3)]
        assert len(list((tmp_path / f"run{n}" / "frames").glob("0*.png"))) == 3
    assert guard.threads == {"dream-worker"} and guard.most == 1


def test_resubmitting_a_running_folder_watches_the_same_job(tiny_pipelines, tmp_path):
    queue = RenderQueue(lambda model, vae: tiny_pipelines)
    stage = small_stage(frames=(2,), loop_frames=0)
    first = queue.submit("render", stage, tmp_path / "run", owner="a")
    assert queue.submit("render", stage, tmp_path / "run", owner="b") is first
    assert finished(first, 60)


def test_cancel_a_queued_job_and_a_failure_is_one_line(tiny_pipelines, tmp_path):
    from core.errors import ModelError

    release = threading.Event()

    def unavailable(model, vae):
        release.wait(30)  # the first job holds the worker until the second is cancelled
        raise ModelError(f"{model} is not on this machine")

    queue = RenderQueue(unavailable)
    failing = queue.submit("render", small_stage(frames=(2,), loop_frames=0), tmp_path / "a", "x")
    waiting = queue.submit("render", small_stage(frames=(2,), loop_frames=0, seed=5), tmp_path / "b", "x")
    queue.cancel(waiting.id)
    release.set()
    assert finished(failing, 30) and failing.status == "failed"
    assert failing.message.endswith("is not on this machine")
    assert finished(waiting, 30) and waiting.status == "cancelled"


def test_candidates(tiny_pipelines, tmp_path):
    queue = RenderQueue(lambda model, vae: tiny_pipelines)
    job = queue.submit("candidates", small_stage(frames=(2,), loop_frames=0), tmp_path / "candidates", "x")
    assert finished(job, 60) and job.status == "done"
    assert sorted(p.name for p in (tmp_path / "candidates").glob("*.png")) == [
        "0.png", "1.png", "2.png", "3.png"]


def test_each_owner_has_its_renders_candidates_and_resumes_included(tiny_pipelines, tmp_path):
    from core.dream.queue import QueueError

    queue = RenderQueue(lambda model, vae: tiny_pipelines, per_owner=3)
    stage = small_stage(frames=(2,), loop_frames=0)
    first = queue.submit("render", stage, tmp_path / "a", "me")
    assert finished(first, 60)
    queue.submit("candidates", stage, tmp_path / "candidates", "me")
    resumed = queue.submit("render", stage, tmp_path / "a", "me")  # a resume of a finished run
    assert resumed is not first and queue.left("me") == 0
    with pytest.raises(QueueError, match="^this session has used its 3 renders$"):
        queue.submit("render", stage, tmp_path / "b", "me")
    assert queue.submit("render", stage, tmp_path / "c", "someone else").owner == "someone else"
    assert queue.left("someone else") == 2


def test_a_render_that_fails_to_start_gives_its_place_back(tmp_path):
    from core.errors import ModelError

    def missing(model, vae):
        raise ModelError(f"{model} is not on this machine")

    queue = RenderQueue(missing, per_owner=1)
    failed = queue.submit("render", small_stage(frames=(2,), loop_frames=0), tmp_path / "a", "me")
    assert finished(failed, 30) and failed.status == "failed" and queue.left("me") == 1


def test_previews_have_their_own_lane_and_one_per_owner(tiny_pipelines, tmp_path):
    release = threading.Event()
    queue = RenderQueue(lambda model, vae: release.wait(60) and tiny_pipelines, per_owner=1)
    stage = small_stage(frames=(6,), loop_frames=2)
    render_job = queue.submit("render", stage, tmp_path / "render", "me")  # holds the GPU lane
    old = queue.submit("preview", stage, tmp_path / "old", "me")
    new = queue.submit("preview", stage, tmp_path / "new", "me")
    assert finished(new, 60) and new.status == "done" and (tmp_path / "new" / "loop.mp4").is_file()
    assert finished(old, 5) and old.status in ("cancelled", "done") and old.cancel.is_set()
    assert not render_job.finished and queue.left("me") == 0  # previews never count
    release.set()
    assert finished(render_job, 120) and render_job.status == "done"


def test_wait_gives_up_at_its_timeout_and_returns_when_the_job_finishes(tiny_pipelines, tmp_path):
    """What the page's preview waits on instead of polling."""
    release = threading.Event()
    queue = RenderQueue(lambda model, vae: release.wait(60) and tiny_pipelines, per_owner=1)
    job = queue.submit("render", small_stage(frames=(2,), loop_frames=0), tmp_path / "run", "me")
    assert not queue.wait(job, 0.2) and not job.finished
    release.set()
    assert queue.wait(job, 120) and job.status == "done"


def test_renders_waiting_when_the_server_dies_come_back_not_started(tiny_pipelines, tmp_path):
    """One render running and three queued, then the server is gone (the queue object with it):
    every run folder still holds its stage and a manifest, the three are listed as not started,
    and one started again renders in full."""
    from core.dream.render import Rendered, render
    from core.dream.run import list_runs
    from core.dream.stage import load_stage

    hold = threading.Event()
    queue = RenderQueue(lambda model, vae: hold.wait(60) and tiny_pipelines)  # the first job never loads
    runs = tmp_path / "runs"
    jobs = [queue.submit("render", small_stage(frames=(3,), loop_frames=0, seed=n), runs / f"run{n}", owner="me")
            for n in range(4)]
    listed = {path.name: manifest for path, manifest in list_runs(runs)}  # what a restarted server reads
    assert sorted(listed) == ["run0", "run1", "run2", "run3"]
    assert all(m.status == "queued" and m.frames_done == 0 for name, m in listed.items() if name != "run0")
    again = load_stage(runs / "run2" / "stage.toml")
    assert again == jobs[2].stage
    assert isinstance(list(render(again, runs / "run2", tiny_pipelines))[-1], Rendered)
    hold.set()


def test_a_session_keeps_its_last_few_finished_jobs_and_its_count(tiny_pipelines, tmp_path):
    """Three hundred preview clicks kept three hundred jobs; now the last few, holding no frame,
    and a session's used renders still count after its old jobs are let go."""
    from core.dream.queue import KEEP_FINISHED, QueueError

    queue = RenderQueue(lambda model, vae: tiny_pipelines, per_owner=5)
    for n in range(8):
        job = queue.submit("preview", small_stage(frames=(3,), loop_frames=0), tmp_path / f"p{n}", owner="me")
        assert queue.wait(job, 60)
    mine = [j for j in queue.jobs() if j.owner == "me"]
    assert len(mine) <= KEEP_FINISHED + 1 and all(j.progress is None or j.progress.image is None for j in mine)
    for n in range(5):  # the fourth and fifth let the oldest renders go: their count stays
        job = queue.submit("render", small_stage(frames=(2,), loop_frames=0, seed=n), tmp_path / f"r{n}", owner="me")
        assert queue.wait(job, 120) and job.status == "done"
    assert len([j for j in queue.jobs() if j.kind == "render"]) == KEEP_FINISHED + 1 and queue.left("me") == 0
    with pytest.raises(QueueError, match="^this session has used its 5 renders$"):
        queue.submit("render", small_stage(frames=(2,), loop_frames=0), tmp_path / "r9", owner="me")
