"""Live Dream: frames per second of the live loop, and how long a slider's change takes to show.

The fast preset's architecture (sd-turbo's UNet and text encoder, the tiny VAE taesd) with random
weights costs what the real models cost. Each size streams through `core.dream.live.LiveStream`
exactly as the Live tab drives it: one warm-up frame, then `--frames` frames timed; then the
strength changes and the latency is the time from the change to the first frame made with it
(the frame being denoised when it comes is dropped at its next step, so about one frame; the
page's own rerun comes on top). Then A/B at the first size: four zooms side by side, drawn in
one model call a frame, beside the single stream. On CUDA, `--compile SIZE...` also times those
sizes with the UNet and the tiny VAE compiled (GIRO_COMPILE=1 on the page), after their warm-up.

With `--page`, what watchers see in real browsers instead: a stream at 30 and at 60 frames a
second (a stand-in model, `bench/live_page.py`), watched by 1, 5 and 10 tabs over the stream's
socket: the frames each tab draws a second, the server's CPU per watcher, and its memory while
ten tabs watch for `--soak` seconds; with `--before REVISION`, one watcher of that revision's
Live view beside them (e48cca1: the fragment that looked for a frame ten times a second).

    python -m bench.live [--sizes 256 512] [--frames 4] [--cadence 1] [--no-compare] [--compile 512]
    python -m bench.live --page [--seconds 10] [--soak 300] [--before e48cca1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bench.dream import CASES, pipelines_for
from bench.gpu_time import KernelTime, graphs_compiled
from bench.results import machine, write_section
from core.device import pick_device, pick_dtype
from core.dream.live import LiveSettings, LiveStream
from core.errors import first_line


ROOT = Path(__file__).resolve().parents[1]
COMPARED_ZOOMS = (0.5, 1.5, 3.0, 6.0)  # A/B: what varies costs the model nothing, so the batch alone shows


def measure(pipelines, size: int, frames: int, cadence: int, compare: bool = False, compile: bool = False) -> dict:
    """Frames a second after the warm-up (longer when compiled: the first frames compile), then a change's latency."""
    settings = LiveSettings("a treelined avenue, poplars, summer day", strength=0.5, guidance=0.0, steps=2,
                            size=size, cadence=cadence, compare="zoom_px" if compare else "",
                            values=COMPARED_ZOOMS if compare else ())
    stream = LiveStream("bench", pipelines, settings, lost_seconds=3600, idle_seconds=3600)
    try:
        warm = 4 if compile else 2  # the first frame and warm-up ones
        wait_until(stream, lambda: len(stream.frames()) >= warm)
        began, start, graphs = time.perf_counter(), stream.latest().index, graphs_compiled()
        wait_until(stream, lambda: stream.latest().index >= start + frames)
        seconds = (time.perf_counter() - began) / (stream.latest().index - start)
        recompiled = graphs_compiled() - graphs
        with KernelTime(pipelines.device) as kernels:  # as many frames again, for the GPU's own time
            start = stream.latest().index
            wait_until(stream, lambda: stream.latest().index >= start + frames)
            profiled = stream.latest().index - start
        changed = replace(settings, strength=0.75)
        began = time.perf_counter()
        stream.update(changed)
        wait_until(stream, lambda: stream.latest().settings == changed)
        latency = time.perf_counter() - began
    finally:
        stream.stop()
        stream.join()
    return dict(size=size, cadence=cadence, frames=frames, seconds=seconds, fps=1 / seconds, latency=latency,
                variants=len(settings.variants()), compile=compile, recompiled=recompiled,
                kernels=None if kernels.seconds is None else kernels.seconds / profiled)


RATES = (30, 60)  # --page: the stand-in stream's frames a second (the H200's pace after the frame-step work)
WATCHERS = (1, 5, 10)  # --page: tabs watching at once
MADE = re.compile(r"([\d.]+) frames a second")


def page(seconds: float, soak: float, before: str | None) -> list[dict]:
    """For each stand-in rate, 1, 5 and 10 watching tabs: the frames each tab drew a second, the
    stream's own rate, the server's and the browser's CPU; then, with ten tabs, the server's memory
    over `soak` seconds at the faster rate. With `before` (a git revision), one watcher of that
    revision's Live view at each rate, side by side. One server and one browser per rate."""
    try:
        from tests.browser.chromium import find_chromium
    except ImportError:
        print("--page skipped: Playwright is not installed (make .venv/.dev-installed)", flush=True)
        return []
    executable = find_chromium()
    if executable is None:
        print("--page skipped: no Chromium found (python -m tests.browser.chromium says why)", flush=True)
        return []
    rows: list[dict] = []
    for rate in RATES:
        _served(ROOT, "this tree", executable, rate, WATCHERS, seconds, soak if rate == RATES[-1] else 0, rows)
    if before:
        with _tree_at(before) as tree:
            for rate in RATES:
                _served(tree, before, executable, rate, (1,), seconds, 0, rows)
    return rows


@contextmanager
def _tree_at(revision: str) -> Iterator[Path]:
    """A checkout of `revision` with this tree's stand-in page in it (bench/live_page*.py, steady.py)."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), revision], cwd=ROOT, check=True)
        try:
            for name in ("live_page.py", "live_page_app.py", "steady.py"):
                shutil.copy(ROOT / "bench" / name, tree / "bench" / name)
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def _served(root: Path, view: str, executable: str, rate: int, watchers: tuple[int, ...], seconds: float,
            soak: float, rows: list[dict]) -> None:
    """One server of `root`'s Live view fed at `rate`, watched by each count of tabs in turn; rows
    are added (and written) as they are measured, so a run cut short keeps them."""
    from playwright.sync_api import sync_playwright

    from tests.browser.server import CHROMIUM_ARGS, AppServer

    cores = sorted(os.sched_getaffinity(0))
    apart = len(cores) >= 2  # the server on one core, the browsers on another, as on guests' phones
    with tempfile.TemporaryDirectory() as scratch:
        if apart:
            os.sched_setaffinity(0, {cores[0]})  # inherited by the server's process
        server = AppServer(dict(os.environ, GIRO_BENCH_FRAME_SECONDS=str(1 / rate)), Path(scratch) / "server.log",
                           script="bench/live_page_app.py", root=root)
        url = server.start()
        if apart:
            os.sched_setaffinity(0, set(cores[1:]))  # inherited by Playwright and Chromium
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                tabs = []
                for count in watchers:
                    while len(tabs) < count:
                        tab = browser.new_page(viewport={"width": 1280, "height": 900})
                        tab.add_init_script(COUNT_IMAGES)
                        # A browser drawing for several tabs on one core loads a new one slowly.
                        tab.goto(url, wait_until="commit", timeout=300_000)
                        tab.get_by_text(MADE).first.wait_for(timeout=300_000)
                        tabs.append(tab)
                    rows.append(dict(_watched(tabs, server, rate, seconds), view=view))
                    page_section(rows)
                if soak:  # the faster stream, ten watchers: the most to keep flat
                    rows.append(dict(_soaked(tabs, server, rate, soak), view=view))
                    page_section(rows)
                browser.close()
        finally:
            server.stop()
            os.sched_setaffinity(0, cores)


# Before the stream's socket the Live view was a Streamlit image replaced per look: count the
# distinct pictures the first one showed, looked at once per animation frame.
COUNT_IMAGES = """
window.giroShown = 0;
let giroLast = null;
const giroLook = () => {
  const image = document.querySelector('[data-testid="stImage"] img');
  if (image && image.src !== giroLast) { giroLast = image.src; window.giroShown += 1; }
  requestAnimationFrame(giroLook);
};
requestAnimationFrame(giroLook);
"""


def _shown(tab) -> int:
    """Frames the tab's view has drawn since it opened: the view counts them, or the older view's
    pictures were counted (COUNT_IMAGES)."""
    view = tab.locator(".giro-live")
    if view.count():
        return int(view.first.get_attribute("data-shown") or 0)
    return tab.evaluate("window.giroShown")


def _browser_cpu_seconds(server) -> float:
    """CPU time of everything this process started but the server: Playwright and Chromium."""
    import psutil

    served = {server.process.pid} | {p.pid for p in psutil.Process(server.process.pid).children(recursive=True)}
    total = 0.0
    for process in psutil.Process().children(recursive=True):
        if process.pid not in served:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def _watched(tabs: list, server, rate: int, seconds: float) -> dict:
    tabs[0].wait_for_timeout(2_000)  # the newest tabs' first frames, the stream's rate settled
    before, cpu, browser_cpu = [_shown(tab) for tab in tabs], server.cpu_seconds(), _browser_cpu_seconds(server)
    began = time.perf_counter()
    tabs[0].wait_for_timeout(seconds * 1000)
    shown = [_shown(tab) for tab in tabs]
    elapsed = time.perf_counter() - began
    cpu, browser_cpu = server.cpu_seconds() - cpu, _browser_cpu_seconds(server) - browser_cpu
    made = float(MADE.search(tabs[0].get_by_text(MADE).first.inner_text()).group(1))
    each = [(after - first) / elapsed for first, after in zip(before, shown)]
    row = dict(rate=rate, watchers=len(tabs), made=made, least=min(each), mean=sum(each) / len(each),
               cpu=cpu / elapsed / len(tabs), browser=browser_cpu / elapsed)
    print(f"stand-in at {rate}/s, {len(tabs)} watchers: the stream made {made:.1f} frames a second, each tab drew "
          f"{row['least']:.1f}-{max(each):.1f}; server CPU {row['cpu']:.3f} s a second per watcher, "
          f"browser {row['browser']:.2f} s a second", flush=True)
    return row


def _soaked(tabs: list, server, rate: int, soak: float) -> dict:
    tabs[0].wait_for_timeout(2_000)
    before = server.rss_mb()
    tabs[0].wait_for_timeout(soak * 1000)
    after = server.rss_mb()
    print(f"stand-in at {rate}/s, {len(tabs)} watchers for {soak:.0f} s: server memory {before:.0f} -> {after:.0f} MB",
          flush=True)
    return dict(rate=rate, watchers=len(tabs), soak=soak, before=before, after=after)


def _split(row: dict) -> str:
    kernels = row["kernels"]
    share = "- | - |" if kernels is None else f"{kernels * 1000:.1f} | {max(0.0, 1 - kernels / row['seconds']):.0%} |"
    return f"{share} {row['recompiled'] if row['compile'] else '-'} |"


def _times_one(row: dict, single: dict) -> str:
    return f"{row['seconds'] / single['seconds']:.2f}" if row["variants"] > 1 else "-"


def wait_until(stream: LiveStream, condition) -> None:
    """Until `condition()` holds; an error if the stream stops first."""
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
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="leave out the A/B row (four variants side by side)")
    parser.add_argument("--page", action="store_true", help="what a watcher's browser shows instead")
    parser.add_argument("--seconds", type=float, default=10, help="--page: how long each count of watchers is timed")
    parser.add_argument("--soak", type=float, default=300, help="--page: seconds ten watchers watch while memory is read")
    parser.add_argument("--before", metavar="REVISION",
                        help="--page: also one watcher of this git revision's Live view, side by side")
    args = parser.parse_args(argv)
    if args.page:
        page(args.seconds, args.soak, args.before)
        return
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
        write_results(rows, device)  # after each row: a run cut short keeps what it timed
    single = rows[0]
    if args.compare:
        row = measure(pipelines, single["size"], args.frames, args.cadence, compare=True)
        print(f"{row['size']} px, {row['variants']} variants: {row['seconds']:.3f} s a frame "
              f"({_times_one(row, single)}x one)", flush=True)
        rows.append(row)
        write_results(rows, device)
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
            write_results(rows, device)


def write_results(rows: list[dict], device: str) -> None:
    single = rows[0]
    kind = device.split(":")[0]
    lines = [
        f"## Live Dream: frames per second ({kind}, {pick_dtype(device)})",
        "",
        f"Machine: {machine()}",
        "",
        "The fast preset's architecture (sd-turbo UNet and text encoder, taesd) with random weights, one "
        "denoising step a frame, no guidance, colour coherence on, through `core.dream.live.LiveStream` "
        "(each frame also encoded once as JPEG for the watchers, `core.dream.broadcast`). "
        "Change to frame: seconds from a strength change to the first frame made with it (the page's "
        "rerun comes on top). Variants 4: A/B of four zooms side by side, one model call a frame for all "
        "four; its time over one variant's at the same size in the last column. Compile: the UNet and the "
        "tiny VAE compiled by torch.compile (GIRO_COMPILE=1) into CUDA graphs, timed after its warm-up. GPU "
        "kernels: their own time per frame (torch.profiler, over as many frames again); host-bound share: "
        "the part of a frame's wall time the GPU is idle; graphs compiled after warm-up: 0 when nothing "
        "recompiles.",
        "",
        "| size | cadence | variants | compile | frames timed | s / frame | frames / s | change to frame (s) | x one "
        "| GPU kernels ms / frame | host-bound share | graphs compiled after warm-up |",
        "|" + " --- |" * 12,
        *(f"| {r['size']} | {r['cadence']} | {r['variants']} | {'yes' if r['compile'] else 'no'} | {r['frames']} "
          f"| {r['seconds']:.3f} | {r['fps']:.2f} | {r['latency']:.3f} | {_times_one(r, single)} | {_split(r)}"
          for r in rows),
    ]
    write_section(f"live-{kind}", "\n".join(lines))


def page_section(rows: list[dict]) -> None:
    if not rows:
        return
    watched = [r for r in rows if "soak" not in r]
    soaked = [r for r in rows if "soak" in r]
    lines = [
        "## Live Dream: frames the watchers' browsers show",
        "",
        f"Machine: {machine()}",
        "",
        "A real `LiveStream` at 256 px (zoom, colour matching, one JPEG a frame for all watchers) whose model "
        "is a stand-in handing back a frame every 1/rate seconds, the stream's own work included, as long as "
        "the server's core keeps up (`bench/live_page.py`): frames made / s is what it reached. Watched through the Live tab's own "
        "view by 1, 5 and 10 Chromium tabs, each its own session, over the stream's socket on the app's server. "
        "Drawn: frames each tab's view drew a second (the least and the mean over the tabs). Server CPU: the "
        "server process's CPU seconds a second, the stream included, over the watchers; browser CPU: "
        "Chromium's and Playwright's together, all tabs. The server runs on one core and Chromium on the "
        "others, as guests' browsers run on their phones. View: this tree's, or an earlier revision's "
        "(`--before`), with this tree's stand-in.",
        "",
        "| view | stand-in rate / s | watchers | frames made / s | drawn / s, least tab | drawn / s, mean "
        "| server CPU s / s per watcher | browser CPU s / s |",
        "|" + " --- |" * 8,
        *(f"| {r['view']} | {r['rate']} | {r['watchers']} | {r['made']:.1f} | {r['least']:.1f} | {r['mean']:.1f} "
          f"| {r['cpu']:.3f} | {r['browser']:.2f} |" for r in watched),
    ]
    if soaked:
        lines += ["", "| stand-in rate / s | watchers | seconds | server MB before | server MB after |",
                  "| --- | --- | --- | --- | --- |",
                  *(f"| {r['rate']} | {r['watchers']} | {r['soak']:.0f} | {r['before']:.0f} | {r['after']:.0f} |"
                    for r in soaked)]
    write_section("live-page", "\n".join(lines))


if __name__ == "__main__":
    main()
