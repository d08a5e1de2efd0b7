"""The Render tab: a motion preview, queued renders with progress, and interrupted runs to resume."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import settings
from core.dream.estimate import estimate
from core.dream.plan import make_plan
from core.dream.queue import QueueError
from core.dream.run import MP4, RunFolder, list_runs
from core.dream.scratch import new_preview_dir
from core.dream.stage import Stage, load_stage
from core.errors import GiroError
from ui.cache import device_info, render_queue
from ui.common import as_text
from ui.dream.plots import figures_line
from ui.dream.results import results_ui
from ui.dream.state import load_into_state, model_here_ui, model_name

PREVIEW_HELP = ("zoom and loop-mixing only, no model, at 256 px; a start image is shown nested in itself about "
                "the vanishing point, standing in for the detail a model draws as the camera goes in")


def render_tab_ui(stage: Stage | None) -> None:
    if stage is None:
        st.warning("Fix the stage first (see the Stage tab).")
        return
    preview_ui(stage)
    render_ui(stage)


@st.fragment
def preview_ui(stage: Stage) -> None:
    """Zoom and loop-mixing only, no model, made by the queue's preview lane. A fragment that waits
    for its preview, saying how far it has got in a line of text: a click reruns the fragment alone.
    Whole-page reruns (one for the click, then a progress fragment's twice a second) and a progress
    bar's animation kept the browser busy redrawing while the server drew the preview, on the same
    cores when the host watches on the server's own screen (bench/RESULTS.md, dream-preview)."""
    queue, owner = render_queue(), st.session_state.owner
    if st.button("Preview motion", help=PREVIEW_HELP):
        st.session_state.preview_job = queue.submit("preview", stage, new_preview_dir(owner), owner).id
    job = queue.get(st.session_state.get("preview_job", "")) or queue.latest(owner, "preview")
    if job is None:
        return
    if not job.finished:
        line = st.empty()
        line.caption("Previewing the motion...")
        while not queue.wait(job, 0.5):
            progress = job.progress  # read once: the worker replaces it
            if progress is not None:
                line.caption(f"Previewing the motion: frame {progress.frame + 1} of {progress.total}...")
        line.empty()
    if job.status == "failed":
        st.error(as_text(job.message))
    elif (job.run_dir / MP4).is_file():
        # At about its own size (256 px), the words beside it: stretched to the page's width it
        # pushed its caption and the Render button below the fold. On a phone the two stack.
        video, words = st.columns([2, 3])
        video.video(str(job.run_dir / MP4), loop=True, autoplay=True, muted=True)
        manifest = RunFolder(job.run_dir).manifest()
        if manifest is not None and manifest.seam is not None:
            words.caption(f"Preview: {figures_line(manifest.figures or {'seam': manifest.seam})}")


def render_ui(stage: Stage) -> None:
    state, queue = st.session_state, render_queue()
    r = stage.render
    start = "the start frame you chose" if r.first_image else "text-to-image of the first prompt"
    diffused = sum(p.diffused for p in make_plan(stage))
    st.write(
        f"**{stage.total_frames} frames** at {r.width}x{r.height} with `{as_text(model_name(stage.model()))}`, "
        f"from {start}; {int(r.steps * r.strength)} denoising passes for each of {diffused} diffused frames"
        f"{', fewer through the loop window' if r.strength_taper and r.loop_frames else ''}."
    )
    left, cap = queue.left(state.owner), queue.per_owner
    here = model_here_ui("Render", stage.model(), r.vae)
    if here:
        estimate_ui(stage)
    if st.button("Render", type="primary", disabled=left <= 0 or not here,
                 help=f"{left} of {cap} renders left in this session"):
        run = RunFolder.create(settings.runs_dir(), stage.segments[0].prompt)
        try:
            state.job_id = queue.submit("render", stage, run.path, state.owner).id
        except QueueError as error:
            run.path.rmdir()  # still empty: a render that never started leaves no folder behind
            st.error(as_text(str(error)))
    if left <= 0:
        st.caption(f"This session has used its {cap} renders (GIRO_DREAM_RENDERS_PER_SESSION).")
    job = queue.get(state.get("job_id", "")) or queue.latest(state.owner)
    if job is not None and not job.finished:
        st.fragment(run_every=1.0)(job_progress_ui)(job.id)
    elif job is not None:
        job_result_ui(job.id)
    resume_ui()


def estimate_ui(stage: Stage) -> None:
    """Before Render: how long it should take here, from this server's own finished renders."""
    device = device_info().device
    guess = estimate(stage, device, settings.runs_dir())
    if guess is None:
        st.caption(f"No estimate yet: no finished render of this model, VAE and size on `{device}`. "
                   "The first one measures it.")
        return
    minutes = guess.seconds / 60
    when = f"about {minutes:.0f} min" if minutes >= 1.5 else f"about {guess.seconds:.0f} s"
    st.caption(f"Estimate: {when} on `{device}`, measured from {guess.renders} earlier render"
               f"{'s' if guess.renders > 1 else ''} of this model, VAE and size here (loading not included).")


def job_progress_ui(job_id: str) -> None:
    queue = render_queue()
    job = queue.get(job_id)
    if job is None or job.finished:
        st.rerun()  # the whole page: results replace the progress
    place = queue.position(job)
    if place:
        st.info(f"Queued: {place} render{'s' if place > 1 else ''} ahead of yours on this server.")
    progress = job.progress
    if progress is None:
        st.progress(0.0, text="Loading the model..." if place == 0 else "Waiting for the GPU...")
    else:
        done = progress.frame + 1
        st.progress(done / progress.total, text=(
            f"frame {done} of {progress.total} · {progress.seconds_per_frame:.1f} s per frame · "
            f"ETA {progress.eta_seconds / 60:.1f} min"))
        st.image(progress.image, width=320, caption=f"frame {progress.frame}")
    if st.button("Cancel", key=f"cancel_{job_id}"):
        queue.cancel(job_id)


def job_result_ui(job_id: str) -> None:
    job = render_queue().get(job_id)
    if job.status == "failed":
        st.error(as_text(job.message))
    elif job.status == "cancelled":
        st.warning("Cancelled. The frames so far are kept: resume below.")
    else:
        results_ui(job.run_dir, "render")


def resume_ui() -> None:
    """Renders that stopped (a reload, a closed tab, a restart) and are not running now."""
    active = render_queue().active_dirs()
    stopped = [(path, m) for path, m in list_runs(settings.runs_dir())
               if not m.complete and path not in active]
    if not stopped:
        return
    st.subheader("Interrupted renders")
    if st.session_state.get("resume_error"):
        st.error(as_text(st.session_state.pop("resume_error")))
    for path, manifest in stopped[:5]:
        a, b = st.columns([3, 1])
        if manifest.status == "queued":  # waiting in the queue when the server stopped
            a.write(f"`{path.name}`: not started, {manifest.frames_total} frames")
            b.button("Start", key=f"resume_{path.name}", on_click=_on_resume, args=(str(path),))
        else:
            a.write(f"`{path.name}`: {manifest.frames_done} of {manifest.frames_total} frames")
            b.button("Resume", key=f"resume_{path.name}", on_click=_on_resume, args=(str(path),))


def _on_resume(path: str) -> None:
    """Queue the run again and show its stage, so the page describes what is rendering."""
    try:
        stage = load_stage(Path(path) / "stage.toml")
        st.session_state.job_id = render_queue().submit("render", stage, Path(path), st.session_state.owner).id
    except GiroError as error:
        st.session_state.resume_error = str(error)
        return
    load_into_state(stage)
