"""Renders under contention and crashes, with the tiny Stable Diffusion.

Three sessions start renders at once: they queue, each finishes, no frame of one lands in another,
and a guard on the UNet proves no two threads were ever inside it. The server killed mid-render
(SIGKILL), restarted, and the render resumed from the page: the frames equal those of a render
that was never interrupted.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.dream.pipelines import cached_pipelines, load_pipelines
from core.dream.render import render
from core.dream.run import RunFolder
from core.dream.stage import load_stage
from tests.browser.conftest import DESKTOP, assert_no_exception, screenshot, wait_for_app
from tests.browser.server import AppServer
from tests.dream.conftest import UNetGuard, finished
from tests.reliability.figures import record
from ui.cache import render_queue

ROOT = Path(__file__).resolve().parents[2]


def stage_toml(prompt: str, seed: int, frames: int) -> bytes:
    return (f'[render]\nwidth = 64\nheight = 64\nsteps = 10\nstrength = 0.5\nzoom_px = 2.0\nloop_frames = 4\n'
            f'seed = {seed}\n[[segment]]\nprompt = "{prompt}"\nframes = {frames}\n').encode()


def frames_of(run_dir: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(p)) for p in sorted((run_dir / "frames").glob("0*.png"))]


def test_three_sessions_render_at_once(tiny_dream_model, giro_folders, monkeypatch):
    monkeypatch.setenv("GIRO_DREAM_MODEL", str(tiny_dream_model))
    st.cache_resource.clear()  # once: the three sessions share the server's queue, as in a real server
    pipelines = cached_pipelines(str(tiny_dream_model), "cpu", torch.float32)  # what the queue will use
    guard = UNetGuard(pipelines.text2img.unet, monkeypatch, closed=True)
    stages = [("Tuscan hills at dawn", 1), ("the sea at Sanremo", 2), ("the Dolomites in snow", 3)]

    sessions = []
    for prompt, seed in stages:
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120).run()
        at.switch_page("pages/1_Dream_a_Stage.py").run()
        at.file_uploader(key="stage_file").set_value(("s.toml", stage_toml(prompt, seed, 12), "text/plain")).run()
        sessions.append(at)
    for at in sessions:  # the three clicks, back to back
        [b for b in at.button if b.label == "Render"][0].click().run()
    jobs = [render_queue().get(at.session_state["job_id"]) for at in sessions]
    assert len({job.run_dir for job in jobs}) == 3
    told = [[i.value for i in at.info] for at in sessions]
    assert told == [[], ["Queued: 1 render ahead of yours on this server."],
                    ["Queued: 2 renders ahead of yours on this server."]]
    guard.gate.set()
    for job in jobs:
        assert finished(job, 300) and job.status == "done", job.message
    for at in sessions:
        at.run()
        assert not at.exception and not at.error and len(at.get("video")) >= 1

    threads = sorted(guard.threads)  # before the solo renders below add this thread
    assert guard.most == 1 and threads == ["dream-worker"], (guard.most, threads)
    for job, (prompt, seed) in zip(jobs, stages):
        manifest = RunFolder(job.run_dir).manifest()
        assert manifest.title == prompt and manifest.seeds[0] == seed
    # Each render alone, in this thread: the frames must be the same, so none came from another render.
    for n, job in enumerate(jobs):
        alone = giro_folders["runs"] / f"alone-{n}"
        list(render(job.stage, alone, pipelines))
        together, solo = frames_of(job.run_dir), frames_of(alone)
        assert len(together) == len(solo) == 12
        assert all(np.array_equal(a, b) for a, b in zip(together, solo)), f"render {n} differs from its solo run"
    record("concurrent_renders", {"sessions": 3, "frames_each": 12, "told_while_waiting": told,
                                  "most_threads_inside_the_unet_at_once": guard.most,
                                  "threads_that_ran_the_unet": threads,
                                  "renders_differing_from_their_solo_run": 0})


@pytest.mark.heavy
def test_server_killed_mid_render_resumes_to_the_same_frames(browser, server_env, tiny_dream_model, tmp_path):
    frames = 48
    runs = tmp_path / "runs"
    runs.mkdir()
    server = AppServer(dict(server_env, GIRO_RUNS=str(runs)), tmp_path / "streamlit.log")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.viewport_name = "desktop"
    try:
        server.start()
        page.goto(f"{server.url}/Dream_a_Stage")
        wait_for_app(page)
        stage_file = tmp_path / "kill.toml"
        stage_file.write_bytes(stage_toml("a road in the Apennines", 11, frames))
        page.locator('[data-testid="stFileUploader"]', has_text="Import a stage").locator(
            'input[type="file"]').set_input_files(str(stage_file))
        page.get_by_text(re.compile(rf"^{frames} frames, ")).first.wait_for(timeout=30_000)
        wait_for_app(page)
        page.get_by_role("tab", name="Render").click()
        page.get_by_role("button", name="Render", exact=True).click()
        # Frame 5 to 47 shown: some frames are on disk and some are still to come.
        page.get_by_text(re.compile(r"frame ([5-9]|[1-3]\d|4[0-7]) of 48")).first.wait_for(timeout=120_000)
        server.kill()
        run_dir = next(p for p in runs.iterdir() if not p.name.startswith("_"))
        done_at_kill = len(list((run_dir / "frames").glob("0*.png")))
        assert 0 < done_at_kill < frames

        began = time.monotonic()
        server.start()
        page.reload()
        wait_for_app(page)
        page.get_by_role("tab", name="Render").click()
        page.get_by_text("Interrupted renders").wait_for(timeout=30_000)
        screenshot(page, "dream_interrupted")
        page.get_by_role("button", name="Resume").first.click()
        page.locator("video").first.wait_for(timeout=300_000)
        wait_for_app(page)
        resumed_in = time.monotonic() - began
        assert_no_exception(page)
        screenshot(page, "dream_resumed")
    finally:
        context.close()
        server.stop()

    manifest = RunFolder(run_dir).manifest()
    assert manifest.complete and manifest.frames_done == frames
    reference = tmp_path / "uninterrupted"
    pipelines = load_pipelines(str(tiny_dream_model), "cpu", torch.float32)
    list(render(load_stage(run_dir / "stage.toml"), reference, pipelines))
    resumed, whole = frames_of(run_dir), frames_of(reference)
    assert len(resumed) == len(whole) == frames
    differing = [i for i, (a, b) in enumerate(zip(resumed, whole)) if not np.array_equal(a, b)]
    assert not differing, f"frames {differing[:5]} differ from the uninterrupted render"
    assert Image.open(run_dir / "loop.gif").n_frames == frames
    record("server_killed", {"frames": frames, "frames_on_disk_at_kill": done_at_kill,
                             "restart_to_finished_loop_s": round(resumed_in, 1),
                             "frames_differing_from_uninterrupted": len(differing),
                             "server_tracebacks": server.tracebacks()})


def test_the_render_cap_holds_across_reloads(tiny_dream_model, giro_folders, monkeypatch):
    """Reloads keep ?session=, and the queue counts renders and candidates per session: three
    reloads no longer give six renders under a cap of two. Previews never count."""
    monkeypatch.setenv("GIRO_DREAM_MODEL", str(tiny_dream_model))
    monkeypatch.setenv("GIRO_DREAM_RENDERS_PER_SESSION", "2")
    st.cache_resource.clear()
    owner, clicked = "", []
    for reload in range(3):
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120).run()
        if owner:
            at.query_params["session"] = owner
        at.switch_page("pages/1_Dream_a_Stage.py").run()
        owner = at.session_state["owner"]
        at.file_uploader(key="stage_file").set_value(("s.toml", stage_toml("a road", reload, 6), "text/plain")).run()
        [b for b in at.button if b.label == "Preview motion"][0].click().run()
        button = next(b for b in at.button if b.label == "Render")
        if not button.disabled:
            button.click().run()
            clicked.append(at.session_state["job_id"])
            assert finished(render_queue().get(clicked[-1]), 120)
        if reload == 0:
            at.radio(key="start_source").set_value("From text").run()
            [b for b in at.button if b.label == "Generate 4 candidates"][0].click().run()
            assert finished(render_queue().latest(owner, "candidates"), 120)
        assert not at.exception
    assert len(clicked) == 1 and render_queue().left(owner) == 0
    at.run()
    assert next(b for b in at.button if b.label == "Render").disabled
    assert "This session has used its 2 renders (GIRO_DREAM_RENDERS_PER_SESSION)." in [c.value for c in at.caption]
    previews = [j for j in render_queue().jobs() if j.owner == owner and j.kind == "preview"]
    assert len(previews) == 3 and all(not j.counts for j in previews)
