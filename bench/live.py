"""Live Dream: frames per second of the live loop, and how long a slider's change takes to show.

The fast preset's architecture (sd-turbo's UNet and text encoder, the tiny VAE taesd) with random
weights costs what the real models cost. Each size streams through `core.dream.live.LiveStream`
exactly as the Live tab drives it: one warm-up frame, then `--frames` frames timed; then the
strength changes and the latency is the time from the change to the first frame made with it
(the frame being denoised when it comes is dropped at its next step, so about one frame; the
page's own rerun comes on top). Then A/B at the first size: four zooms side by side, drawn in
one model call a frame, beside the single stream. On CUDA, `--compile SIZE...` also times those
sizes with the UNet and the tiny VAE compiled (GIRO_COMPILE=1 on the page), after their warm-up.

    python -m bench.live [--sizes 256 512] [--frames 4] [--cadence 1] [--compile 512]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from bench.dream import CASES, pipelines_for
from bench.results import machine, write_section
from core.device import pick_device, pick_dtype
from core.dream.live import LiveSettings, LiveStream
from core.errors import first_line


COMPARED_ZOOMS = (0.5, 1.5, 3.0, 6.0)  # A/B: what varies costs the model nothing, so the batch alone shows


def measure(pipelines, size: int, frames: int, cadence: int, compare: bool = False, compile: bool = False) -> dict:
    """Frames a second after the warm-up (longer when compiled: the first frames compile), then a change's latency."""
    settings = LiveSettings("a treelined avenue, poplars, summer day", strength=0.5, guidance=0.0, steps=2,
                            size=size, cadence=cadence, compare="zoom_px" if compare else "",
                            values=COMPARED_ZOOMS if compare else ())
    stream = LiveStream("bench", pipelines, settings, lost_seconds=3600, idle_seconds=3600)
    try:
        warm = 4 if compile else 2  # the first frame and warm-up ones
        _wait(stream, lambda: len(stream.frames()) >= warm)
        began, start = time.perf_counter(), stream.latest().index
        _wait(stream, lambda: stream.latest().index >= start + frames)
        seconds = (time.perf_counter() - began) / (stream.latest().index - start)
        changed = replace(settings, strength=0.75)
        began = time.perf_counter()
        stream.update(changed)
        _wait(stream, lambda: stream.latest().settings == changed)
        latency = time.perf_counter() - began
    finally:
        stream.stop()
        stream.join()
    return dict(size=size, cadence=cadence, frames=frames, seconds=seconds, fps=1 / seconds, latency=latency,
                variants=len(settings.variants()), compile=compile)


def _times_one(row: dict, single: dict) -> str:
    return f"{row['seconds'] / single['seconds']:.2f}" if row["variants"] > 1 else "-"


def _wait(stream: LiveStream, condition) -> None:
    while not condition():
        if not stream.alive:
            raise RuntimeError(f"the stream stopped: {stream.message}")
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--frames", type=int, default=4, help="frames timed per size, after a warm-up")
    parser.add_argument("--cadence", type=int, default=1)
    parser.add_argument("--compile", type=int, nargs="*", default=[], metavar="SIZE",
                        help="also time these sizes compiled by torch.compile (CUDA only)")
    args = parser.parse_args(argv)
    device = pick_device()
    if args.compile and not device.startswith("cuda"):
        parser.error("--compile times torch.compile, which the app uses on CUDA only")
    pipelines = pipelines_for(CASES["+taesd"], device, pick_dtype(device))
    rows = []
    for size in args.sizes:
        row = measure(pipelines, size, args.frames, args.cadence)
        print(f"{size} px: {row['seconds']:.3f} s a frame, {row['fps']:.2f} frames/s, "
              f"change to frame {row['latency']:.3f} s", flush=True)
        rows.append(row)
    single = rows[0]
    row = measure(pipelines, single["size"], args.frames, args.cadence, compare=True)
    print(f"{row['size']} px, {row['variants']} variants: {row['seconds']:.3f} s a frame "
          f"({_times_one(row, single)}x one)", flush=True)
    rows.append(row)
    if args.compile:
        compiled = pipelines_for(CASES["+compile"], device, pick_dtype(device))
        for size in args.compile:
            try:
                row = measure(compiled, size, args.frames, args.cadence, compile=True)
            except Exception as error:  # a compiler failing must not lose the rows already timed
                print(f"{size} px compiled: failed: {type(error).__name__}: {first_line(error)}", flush=True)
                continue
            print(f"{size} px compiled: {row['seconds']:.3f} s a frame, {row['fps']:.2f} frames/s, "
                  f"change to frame {row['latency']:.3f} s", flush=True)
            rows.append(row)
    kind = device.split(":")[0]
    lines = [
        f"## Live Dream: frames per second ({kind}, {pick_dtype(device)})",
        "",
        f"Machine: {machine()}",
        "",
        "The fast preset's architecture (sd-turbo UNet and text encoder, taesd) with random weights, one "
        "denoising step a frame, no guidance, colour coherence on, through `core.dream.live.LiveStream`. "
        "Change to frame: seconds from a strength change to the first frame made with it (the page's "
        "rerun comes on top). Variants 4: A/B of four zooms side by side, one model call a frame for all "
        "four; its time over one variant's at the same size in the last column. Compile: the UNet and the "
        "tiny VAE compiled by torch.compile (GIRO_COMPILE=1), timed after its warm-up.",
        "",
        "| size | cadence | variants | compile | frames timed | s / frame | frames / s | change to frame (s) | x one |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *(f"| {r['size']} | {r['cadence']} | {r['variants']} | {'yes' if r['compile'] else 'no'} | {r['frames']} "
          f"| {r['seconds']:.3f} | {r['fps']:.2f} | {r['latency']:.3f} | {_times_one(r, single)} |" for r in rows),
    ]
    write_section(f"live-{kind}", "\n".join(lines))


if __name__ == "__main__":
    main()
