"""How the loop closes: the loop figures of previews, raw and with the camera's motion taken out.

A preview renders a stage's motion and loop-mixing without a model (the test card, or a start
image nested in itself, redrawn where the camera is), so its figures measure the loop's geometry
alone: the seam over the median step, raw (whole frame, border band, centre) and
motion-compensated (the last frame moved by the step into frame 0, against frame 0, over the
median of the same between consecutive frames; whole frame and four rings around the vanishing
point, ring 4 the outermost). About 1: the seam looks
like any other step; `core.dream.figures` says how each is measured. Beside them, the ghosting
figure (two pictures at once), the same figures on each preview's MP4 decoded, and stages drawn
at random that nobody tuned for, each beside its ride without a loop, from the test card and from
a photograph, and two stages whose loop windows are short for their rides, each window lengthened.

    python -m bench.loop
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import replace
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import torch
from PIL import Image
from skimage import data

from bench.results import machine, write_section
from core.dream.figures import LoopFigures
from core.dream.plan import FramePlan, make_plan
from core.dream.preview import preview_stage
from core.dream.render import Progress, Rendered, render
from core.dream.stage import Stage, load_stage
from core.dream.zoom import place_ahead, to_float, to_uint8

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COLUMNS = ["seam", "seam_border", "seam_centre", "seam_moved", *(f"seam_moved_ring{n}" for n in range(1, 5)), "flicker",
           "ghosting", "window_jolt"]
MP4_COLUMNS = ["seam_moved", "worst_ring", "ghosting"]


def stages() -> dict[str, Stage]:
    giro = preview_stage(load_stage(EXAMPLES / "giro_stage.toml"))
    r = giro.render
    turning = replace(giro, segments=(
        giro.segments[0],
        replace(giro.segments[1], rotate=1.0, pan=(0.5, 0.0), vanishing_point=(0.35, 0.6)),
        replace(giro.segments[2], zoom_px=-0.5),
        *giro.segments[3:],
    ))
    return {
        "giro_stage.toml": giro,
        "giro_stage.toml, cadence 3": replace(giro, render=replace(r, cadence=3)),
        "giro_stage.toml, cadence 8": replace(giro, render=replace(r, cadence=8)),
        "giro_stage.toml, linear curve over 8 frames": replace(giro, render=replace(
            r, loop_curve="linear", loop_frames=8)),
        "giro_stage.toml about (0.1, 0.9)": replace(giro, render=replace(r, vanishing_point=(0.1, 0.9))),
        "giro_stage.toml, 256x160 about (0.3, 0.6)": replace(giro, render=replace(
            r, width=256, height=160, vanishing_point=(0.3, 0.6))),
        "giro_stage.toml, segment 2 turning and drifting, 3 zooming out": turning,
        "avenue_loop.toml": preview_stage(load_stage(EXAMPLES / "avenue_loop.toml")),
    }


def figures_of(stage: Stage) -> tuple[dict[str, float | None], dict[str, float | None], dict[str, float | None]]:
    """The preview's figures: measured on its frames as drawn, on its MP4's frames decoded, as a
    viewer gets them (x264 at the writer's quality), and its seam's floor (`floor_figures`)."""
    plans = make_plan(stage)
    with tempfile.TemporaryDirectory() as scratch:
        events = list(render(stage, Path(scratch) / "run", pipelines=None))
        if not isinstance(events[-1], Rendered):
            return {}, {}, {}
        decoded = LoopFigures.of_plan(plans, stage.render.loop_frames)
        with imageio.get_reader(events[-1].video) as reader:
            for frame in reader:
                decoded.add(np.asarray(frame))
        decoded.close()
    on_video = decoded.figures()
    rings = [on_video[f"seam_moved_ring{n}"] for n in range(1, 5)]
    on_video["worst_ring"] = None if None in rings else max(rings)
    frames = [event.image for event in events if isinstance(event, Progress)]
    return events[-1].figures, on_video, floor_figures(plans, stage.render.loop_frames, frames)


def floor_figures(plans: list[FramePlan], window: int, frames: list[np.ndarray]) -> dict[str, float | None]:
    """The figures again with the last frame replaced by frame 0 itself, placed one step ahead as
    the loop places it (sharp: `core.dream.zoom.place_ahead`): its moved seam figures are the
    nearest the seam can come to frame 0, what the two resamplings leave of frame 0's detail (the
    placing, then the camera's step). A seam figure at its floor is the card's detail finer than a
    resampling carries, not the loop window."""
    if not window:
        return {}
    first = torch.from_numpy(frames[0]).permute(2, 0, 1)
    placed = place_ahead(to_float(first), plans[-1].loop_placement, tuple(first.shape[-2:]), closing=True)
    figures = LoopFigures.of_plan(plans, window)
    for frame in frames[:-1]:
        figures.add(frame)
    figures.add(to_uint8(placed))
    figures.close()
    return figures.figures()


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "astronaut.png"
        Image.fromarray(data.astronaut()).save(photo)
        lines = _tuned_table(photo) + _random_table("Stages nobody tuned for", None)
        lines += _random_table("The same stages from a photograph (scikit-image's astronaut) nested in itself", photo)
        lines += _window_table(photo)
    write_section("dream-loop", "\n".join(lines))


def _tuned_table(photo: Path) -> list[str]:
    """The stages the loop was tuned on, and the Giro stage from `photo`, with the figures' key."""
    rows = []
    tuned = stages()
    giro = tuned["giro_stage.toml"]
    tuned["giro_stage.toml from a photograph"] = replace(giro, render=replace(giro.render, first_image=str(photo)))
    for name, stage in tuned.items():
        figures, decoded, _ = figures_of(stage)
        cells = ["-" if figures.get(c) is None else f"{figures[c]:.2f}" for c in COLUMNS]
        cells += ["-" if decoded.get(c) is None else f"{decoded[c]:.2f}" for c in MP4_COLUMNS]
        print(name, dict(zip(COLUMNS + [f"mp4 {c}" for c in MP4_COLUMNS], cells)), flush=True)
        rows.append(f"| {name} ({stage.total_frames} frames, {stage.render.width}x{stage.render.height}) | "
                    + " | ".join(cells) + " |")
    return [
        "## Dream a Stage: how the loop closes (previews, raw and motion-compensated seam figures)",
        "",
        f"Machine: {machine()}",
        "",
        "Each stage's preview (no model: the motion, the loop-mixing and the card redrawn where the camera "
        "is: the test card, or a start image nested in itself about the vanishing point). seam, border, "
        "centre: the raw jump from the last frame to frame 0 over the median step. moved: the same with "
        "the camera's motion taken out (the last frame moved by the step into frame 0), over the whole "
        "frame and in rings around the vanishing point (1 innermost, 4 outermost). "
        "About 1: the seam looks like any other step; above 1.2 it shows. flicker: grey levels a step "
        "that the camera's motion does not explain. ghosting: the most any frame's strongest edges fall "
        "below the median frame's (two pictures at once: a 50/50 double exposure reads about 0.5; a blur "
        "lowers edges too). window jolt: the loop window's largest step (the seam's included) that the "
        "camera's motion does not explain, over the ride's largest of its kind before the window (up to "
        "about 1: the window steps like the ride; a frame taking over a picture at once reads 2 or more). "
        "MP4: the moved figures again, on the frames of the "
        "preview's video decoded, as a viewer gets them. With cadence, the seam (which lands on frame 0, "
        "a drawn frame) is measured against the steps onto drawn frames. The card (test card or photograph) "
        "is softened by a Gaussian of half a pixel, as a model's decoder draws no edge sharper than its "
        "pixels; about the vanishing point the test card's detail still grows finer than a pixel and "
        "shimmers from frame to frame, and the ride's steps that each figure is measured against include "
        "that shimmer.",
        "",
        "| stage | seam | border | centre | moved | ring 1 | ring 2 | ring 3 | ring 4 | flicker | ghosting "
        "| window jolt | MP4 moved | MP4 worst ring | MP4 ghosting |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]


def _random_table(title: str, photo: Path | None) -> list[str]:
    """bench.loop's random stages (seed 1), from the test card or from `photo`, each beside its ride."""
    lines = ["", f"{title} (drawn at random, seed 1: 128x96 or so, one to three segments, every curve, window "
             "from 8 frames, cadence 1-8; the worst of the moved figures, whole, border, centre and rings; "
             "its floor: the same figure were the last frame frame 0 itself placed one step ahead as the loop "
             "places it, the nearest a seam can come through two resamplings: a seam at its floor is detail "
             "finer than resampling carries, not the loop window; window load: the change the window has to "
             "make over its steps and a ride's step, and the window that brings it to about 1):", "",
             "| stage | unrelated | moved | worst | where | its floor | ghosting (frame) | its ride without a loop "
             "| window jolt (frame) | window load (window wanted) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, stage in random_stages(1, 12):
        if photo is not None:
            stage = replace(stage, render=replace(stage.render, first_image=str(photo)))
        figures, _, floor = figures_of(stage)
        worst = _worst_moved(figures)
        ride, _, _ = figures_of(replace(stage, render=replace(stage.render, loop_frames=0)))
        cells = [f"{figures['unrelated']:.2f}", f"{figures['seam_moved']:.2f}" if worst else "-",
                 f"{figures[worst]:.2f}" if worst else "-", worst.removeprefix("seam_moved_") if worst else "-",
                 f"{floor[worst]:.2f}" if worst and floor.get(worst) is not None else "-",
                 f"{figures['ghosting']:.2f} ({figures['ghosting_frame']})", f"{ride['ghosting']:.2f}",
                 "-" if figures["window_jolt"] is None
                 else f"{figures['window_jolt']:.2f} ({figures['window_jolt_frame']})", _load_cell(figures)]
        print(name, cells, flush=True)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _window_table(photo: Path) -> list[str]:
    """Two stages from `photo` whose windows are short for their rides, each with its window
    lengthened: the way back (the window load times its steps) hardly changes, so the load falls as
    the window grows, and the seam and the window's largest step with it."""
    giro = stages()["giro_stage.toml"]
    short = random_stages(1, 12)[2][1]  # 128x128, linear over 8 frames, cadence 8
    lines = ["", "The loop window lengthened on two stages from the photograph (the Giro stage, and the third "
             "stage nobody tuned for): window load, the way back (load times the window's steps, over a "
             "ride's step), the worst moved seam figure and the window jolt:", "",
             "| stage | window | window load (window wanted) | way back | worst moved (where) | window jolt |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, stage, windows in (("giro_stage.toml from a photograph", giro, (24, 48, 72, 96)),
                                 ("the third stage nobody tuned for, from a photograph", short, (8, 16, 32, 48))):
        for window in windows:
            figures, _, _ = figures_of(replace(stage, render=replace(
                stage.render, first_image=str(photo), loop_frames=window)))
            worst = _worst_moved(figures)
            cells = [str(window), _load_cell(figures), f"{figures['window_load'] * (window + 1):.1f}",
                     f"{figures[worst]:.2f} ({worst.removeprefix('seam_moved_')})", f"{figures['window_jolt']:.2f}"]
            print(name, cells, flush=True)
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _worst_moved(figures: dict[str, float | None]) -> str | None:
    """The moved seam figure (whole, border, centre or a ring) that reads highest; None if none was measured."""
    moved = {k: v for k, v in figures.items() if k.startswith("seam_moved") and v is not None}
    return max(moved, key=moved.get) if moved else None


def _load_cell(figures: dict[str, float | None]) -> str:
    if figures.get("window_load") is None:
        return "-"
    wanted = figures["window_wanted"]
    return f"{figures['window_load']:.2f} ({'-' if wanted is None else wanted})"


def random_stages(seed: int, count: int) -> list[tuple[str, Stage]]:
    """Stages drawn at random within the ranges a user may pick, described in a line each."""
    rng = random.Random(seed)
    base = stages()["giro_stage.toml"]
    drawn = []
    for _ in range(count):
        frames = [rng.randint(20, 60) for _ in range(rng.randint(1, 3))]
        render_settings = replace(
            base.render, width=rng.choice([96, 128, 160]), height=rng.choice([64, 96, 128]),
            loop_frames=rng.randint(8, min(32, sum(frames) - 8)), loop_curve=rng.choice(["linear", "ease-in-out"]),
            cadence=rng.randint(1, 8), zoom_px=round(rng.uniform(0.5, 3), 2), strength=round(rng.uniform(0.2, 0.7), 2),
            vanishing_point=(round(rng.uniform(0.1, 0.9), 2), round(rng.uniform(0.1, 0.9), 2)),
            seed=rng.randint(0, 999), transition_frames=0)
        segments = tuple(replace(base.segments[n], frames=count) for n, count in enumerate(frames))
        r = render_settings
        name = (f"{r.width}x{r.height}, {'+'.join(map(str, frames))} frames, {r.loop_curve} over {r.loop_frames}, "
                f"cadence {r.cadence}, zoom {r.zoom_px}, strength {r.strength}, about {r.vanishing_point}")
        drawn.append((name, replace(base, render=render_settings, segments=segments)))
    return drawn


if __name__ == "__main__":
    main()
