"""How the loop closes: the loop figures of previews, raw and with the camera's motion taken out.

A preview renders a stage's motion and loop-mixing without a model (the test card redrawn where
the camera is), so its figures measure the loop's geometry alone: the seam over the median step,
raw (whole frame, border band, centre) and motion-compensated (the last frame moved by the step
into frame 0, against frame 0, over the median of the same between consecutive frames; whole
frame and four rings around the vanishing point, ring 4 the outermost). About 1: the seam looks
like any other step; `core.dream.figures` says how each is measured.

    python -m bench.loop
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.results import machine, write_section
from core.dream.preview import preview_stage
from core.dream.render import Rendered, render
from core.dream.stage import Stage, load_stage

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COLUMNS = ["seam", "seam_border", "seam_centre", "seam_moved", *(f"seam_moved_ring{n}" for n in range(1, 5)), "flicker"]


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
        "giro_stage.toml, 256x160 about (0.3, 0.6)": replace(giro, render=replace(
            r, width=256, height=160, vanishing_point=(0.3, 0.6))),
        "giro_stage.toml, segment 2 turning and drifting, 3 zooming out": turning,
        "avenue_loop.toml": preview_stage(load_stage(EXAMPLES / "avenue_loop.toml")),
    }


def figures_of(stage: Stage) -> dict[str, float | None]:
    with tempfile.TemporaryDirectory() as scratch:
        events = list(render(stage, Path(scratch) / "run", pipelines=None))
    return events[-1].figures if isinstance(events[-1], Rendered) else {}


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    rows = []
    for name, stage in stages().items():
        figures = figures_of(stage)
        cells = ["-" if figures.get(c) is None else f"{figures[c]:.2f}" for c in COLUMNS]
        print(name, dict(zip(COLUMNS, cells)), flush=True)
        rows.append(f"| {name} ({stage.total_frames} frames, {stage.render.width}x{stage.render.height}) | "
                    + " | ".join(cells) + " |")
    lines = [
        "## Dream a Stage: how the loop closes (previews, raw and motion-compensated seam figures)",
        "",
        f"Machine: {machine()}",
        "",
        "Each stage's preview (no model: the motion, the loop-mixing and the test card redrawn where the "
        "camera is). seam, border, centre: the raw jump from the last frame to frame 0 over the median "
        "step. moved: the same with the camera's motion taken out (the last frame moved by the step into "
        "frame 0), over the whole frame and in rings around the vanishing point (1 innermost, 4 outermost). "
        "About 1: the seam looks like any other step; above 1.2 it shows. flicker: grey levels a step "
        "that the camera's motion does not explain.",
        "",
        "| stage | seam | border | centre | moved | ring 1 | ring 2 | ring 3 | ring 4 | flicker |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    write_section("dream-loop", "\n".join(lines))


if __name__ == "__main__":
    main()
