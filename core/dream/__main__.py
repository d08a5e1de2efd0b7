"""Command line: python -m core.dream render STAGE.toml --out RUN_DIR [...], and
python -m core.dream plan STAGE.toml [--json]."""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import GiroError

if TYPE_CHECKING:
    from core.dream.camera import Camera
    from core.dream.plan import FramePlan
    from core.dream.render import Progress, Rendered


def build_parser() -> argparse.ArgumentParser:
    from core.dream.presets import MODEL_PRESETS, presets_help
    from core.dream.stage import fields_help

    parser = argparse.ArgumentParser(
        prog="python -m core.dream",
        description="Dream a Stage: render a looping zoom video from a stage file.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render",
        help="render (or resume) a stage into a run folder",
        description=(
            "Render STAGE.toml into RUN_DIR: frames/00000.png..., manifest.json, loop.mp4, loop.gif "
            "and frames.zip, beside stage.toml (what was rendered). A preview writes stage.toml, "
            "manifest.json and loop.mp4 only: it is for watching. "
            "Running a render again on the same RUN_DIR resumes where it stopped."
        ),
        epilog="Stage file fields:\n" + fields_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("stage", type=Path, metavar="STAGE.toml", help="the stage file (fields below)")
    render.add_argument(
        "--out", type=Path, required=True, metavar="RUN_DIR",
        help="the run folder; an existing one is resumed",
    )
    render.add_argument(
        "--preset", choices=list(MODEL_PRESETS),
        help=f"{presets_help()} (sets model, VAE, steps, strength and guidance)",
    )
    render.add_argument(
        "--model", metavar="ID_OR_PATH", help="overrides the stage's render.model (and the preset's)"
    )
    render.add_argument(
        "--negative-prompt", metavar="TEXT",
        help="what no frame should show, overriding the stage's render.negative_prompt (a segment's own "
        "still overrides it)",
    )
    render.add_argument(
        "--cadence", type=int, metavar="K",
        help="diffuse every K-th frame (1-8), overriding the stage's render.cadence; the frames "
        "between are the zoom of the last diffused frame faded into the next",
    )
    render.add_argument(
        "--compile", action="store_true",
        help="torch.compile the UNet and VAE on CUDA (as GIRO_COMPILE=1): a slow first frame, faster ones after",
    )
    render.add_argument(
        "--preview", action="store_true",
        help="zoom and loop-mixing only, no model, at 256 px: check travel speed and loop timing "
        "(the 275-frame Giro stage takes seconds on two CPU cores: bench/RESULTS.md, dream-preview); "
        "a first_image is shown nested in itself about the vanishing point, for the detail a model would draw",
    )
    plan = commands.add_parser(
        "plan",
        help="print the plan of a stage, one line per frame, without rendering",
        description="Print what every frame of STAGE.toml will be, without any model: its segment, "
        "prompt, whether it is diffused (cadence), the loop weight of its step and frame 0's share "
        "of it, how much of frame 0's box has frame 0's detail (it spreads from the box's centre), strength, guidance, "
        "steps, zoom and seed.",
    )
    plan.add_argument("stage", type=Path, metavar="STAGE.toml")
    plan.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _plan(args) if args.command == "plan" else _render(args)
    except GiroError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `plan ... | head` stopped reading: nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        if args.command == "plan":
            return 130
        print(f"\nstopped; run the same command again to resume {args.out}", file=sys.stderr)
        return 130


def _plan(args: argparse.Namespace) -> int:
    import json

    from core.dream.plan import make_plan
    from core.dream.stage import load_stage

    stage = load_stage(args.stage)
    for p in make_plan(stage):
        row = {"index": p.index, "segment": p.segment, "prompt": p.prompt, "negative_prompt": p.negative_prompt,
               "keyframe": p.diffused,
               "loop_weight": round(p.loop_weight, 6), "frame0_share": round(p.frame0_share, 6),
               "detail_area": round(p.detail_area, 6), "strength": p.strength, "guidance": p.guidance, "steps": p.steps,
               "passes": _passes(p, bool(stage.render.first_image)),
               **_camera(p.camera), "seed": p.seed}
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{p.index:5d}  seg {p.segment + 1:<3d} {'key' if p.diffused else '   '}  "
                  f"share {p.frame0_share:.3f} detail {p.detail_area:.2f}  weight {p.loop_weight:.3f}  "
                  f"strength {p.strength:.2f}  "
                  f"guidance {p.guidance:g}  passes {row['passes']} of {p.steps} steps  zoom {p.camera.zoom_px:g}"
                  f"{_turn(p.camera)}  seed {p.seed}  "
                  f"{_printable(p.prompt)}")
    return 0


def _camera(camera: Camera) -> dict[str, Any]:
    """The frame's camera as `plan --json` gives it (its step into the frame)."""
    return {"zoom_px": round(camera.zoom_px, 6), "rotate": round(camera.rotate, 6),
            "pan": [round(v, 6) for v in camera.pan],
            "vanishing_point": [round(v, 6) for v in camera.vanishing_point]}


def _turn(camera: Camera) -> str:
    """The camera beyond its zoom, for a terminal: only what moves."""
    parts = []
    if camera.rotate:
        parts.append(f"turn {camera.rotate:g} deg")
    if any(camera.pan):
        parts.append(f"pan {camera.pan[0]:g},{camera.pan[1]:g} px")
    parts.append(f"about {camera.vanishing_point[0]:.2f},{camera.vanishing_point[1]:.2f}")
    return "".join(f"  {part}" for part in parts)


def _passes(p: FramePlan, start_image: bool) -> int:
    """The UNet's denoising passes for the frame (twice the batch with guidance): frame 0 runs
    text-to-image's every step, or none over a start image; an in-between frame none."""
    if p.index == 0:
        return 0 if start_image else p.steps
    return p.passes


def _printable(text: str) -> str:
    """A prompt for a terminal: control characters (escape sequences that retitle or clear it)
    written as escapes, as the stage file writes them."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _render(args: argparse.Namespace) -> int:
    from core.device import one_core_for_this_thread
    from core.dream.render import render
    from core.dream.stage import load_stage

    stage = load_stage(args.stage)
    if args.preset:
        from core.dream.presets import apply_preset

        stage = apply_preset(stage, args.preset)
    if args.model:
        stage = replace(stage, render=replace(stage.render, model=args.model))
    overrides = {name: value for name, value in (("cadence", args.cadence), ("negative_prompt", args.negative_prompt))
                 if value is not None}
    if overrides:
        from core.dream.stage import check_stage

        stage = replace(stage, render=replace(stage.render, **overrides))
        check_stage(stage)
    pipelines = None
    if args.preview:
        from core.dream.preview import preview_stage

        stage = preview_stage(stage)
    else:
        from core import settings
        from core.device import pick_device, pick_dtype
        from core.dream.pipelines import load_pipelines

        device = pick_device()
        compile = args.compile or settings.dream_compile()
        pipelines = load_pipelines(stage.model(), device, pick_dtype(device), stage.render.vae, compile)
        vae = "" if pipelines.vae == "auto" else f", VAE {pipelines.vae}"
        print(f"model {pipelines.model}{vae} on {pipelines.device} ({pipelines.dtype})", file=sys.stderr)
    # A preview is many small ops: one core for them (see one_core_for_this_thread).
    with one_core_for_this_thread() if pipelines is None else nullcontext(), _Report() as report:
        for progress in render(stage, args.out, pipelines):
            report(progress)
    return 0


class _Report:
    """The render's progress on stderr: one bar redrawn in place on a terminal (tqdm), else a
    line every few seconds at most; then one closing line on stdout: the loop and what was written."""

    LINE_SECONDS = 5.0  # not a terminal (a log, CI): a line this often at most

    def __init__(self):
        self._bar = None
        self._next_line = 0.0

    def __enter__(self) -> _Report:
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()

    def __call__(self, progress: Progress | Rendered) -> None:
        from core.dream.render import Rendered

        if isinstance(progress, Rendered):
            self.__exit__()
            print(_closing_line(progress))
            return
        done = progress.frame + 1
        if sys.stderr.isatty():
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=progress.total, initial=progress.frame, unit="frame", file=sys.stderr,
                                 dynamic_ncols=True, smoothing=0.1)
            self._bar.update(done - self._bar.n)
            return
        now = time.monotonic()
        if now >= self._next_line or done == progress.total:
            self._next_line = now + self.LINE_SECONDS
            print(f"frame {done}/{progress.total}  {progress.seconds_per_frame:.2f} s a frame  "
                  f"ETA {progress.eta_seconds / 60:.1f} min", file=sys.stderr, flush=True)


def _closing_line(rendered: Rendered) -> str:
    from core.dream.figures import headline, loop_in_words
    from core.dream.run import GIF, ZIP

    video = rendered.video
    written = [p for p in (video, video.with_name(GIF), video.with_name(ZIP)) if p.is_file()]
    shown = headline(rendered.figures)
    figure = "" if shown is None else f" ({shown[0]} {shown[1]:.2f}; about 1 is seamless)"
    return f"{loop_in_words(rendered.figures)}{figure}. Wrote " + ", ".join(str(p) for p in written)


if __name__ == "__main__":
    sys.exit(main())
