"""Dream a Stage's motion preview: how long a look costs, from the command line and on the page.

The preview of examples/giro_stage.toml (275 frames at 256 px, no model) timed end to end:
  - command line: `python -m core.dream render ... --preview` in a fresh process, start-up
    (importing torch) included, until it exits with the MP4 written; beside it, the start-up
    alone (a fresh Python importing torch) and the preview alone in a started process, so the
    two parts of the command line's time can be told apart;
  - page: the app served as `make run` serves it, in Chromium: from the click on "Preview motion"
    until the preview's first frame is ready to show (the video's "loadeddata"), both timed by the
    browser; the server already warm and the page drawn a second before the click, as a guest
    finds them.

    python -m bench.preview [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "examples" / "giro_stage.toml"


def command_line(rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "core.dream", "render", str(STAGE), "--out",
                            f"{scratch}/run", "--preview"], cwd=ROOT, check=True, capture_output=True)
            seconds.append(time.perf_counter() - began)
    return seconds


def start_up(rounds: int) -> list[float]:
    """What the command line pays before its first frame: a fresh Python importing torch."""
    seconds = []
    for _ in range(rounds):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        seconds.append(time.perf_counter() - began)
    return seconds


def in_process(rounds: int) -> list[float]:
    """The preview alone, in this already started process: drawing, measuring and encoding, on one
    core per thread as the command line draws it."""
    from core.device import one_core_for_this_thread
    from core.dream.preview import preview_stage
    from core.dream.render import render
    from core.dream.stage import load_stage

    stage = preview_stage(load_stage(STAGE))
    seconds = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch, one_core_for_this_thread():
            began = time.perf_counter()
            for _ in render(stage, Path(scratch) / "run"):
                pass
            seconds.append(time.perf_counter() - began)
    return seconds


# In the page: the time of the click, and of the preview's first frame ready to show (the video's
# "loadeddata"), taken by the browser itself, so the bench's own polling times nothing.
WATCH = """() => {
    window.clickedAt = undefined; window.shownAt = undefined;
    document.addEventListener("click", () => { window.clickedAt ??= performance.now(); }, {capture: true, once: true});
    const shown = () => { window.shownAt ??= performance.now(); };
    new MutationObserver((changes, observer) => {
        const video = document.querySelector("video");
        if (!video) return;
        observer.disconnect();
        if (video.readyState >= 2) shown(); else video.addEventListener("loadeddata", shown, {once: true});
    }).observe(document.body, {childList: true, subtree: true});
}"""


def page(rounds: int) -> list[float] | None:
    """None where Playwright or Chromium is missing (`make bench` needs only the runtime)."""
    try:
        from playwright.sync_api import sync_playwright

        from tests.browser.chromium import find_chromium
        from tests.browser.conftest import wait_for_app
        from tests.browser.server import CHROMIUM_ARGS, AppServer
    except ImportError:
        return None
    executable = find_chromium()
    if executable is None:
        return None
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, GIRO_RUNS=f"{scratch}/runs", HF_HUB_OFFLINE="1")
        server = AppServer(env, Path(scratch) / "server.log")
        url = server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                for _ in range(rounds + 1):  # the first round warms the server up and is not counted
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    tab = context.new_page()
                    tab.goto(f"{url}/Dream_a_Stage")
                    wait_for_app(tab)
                    tab.get_by_role("tab", name="Render").click()
                    button = tab.get_by_role("button", name="Preview motion")
                    button.wait_for(timeout=60_000)
                    tab.wait_for_timeout(1000)  # a guest reads the tab before clicking
                    tab.evaluate(WATCH)
                    button.click()
                    tab.wait_for_function("window.shownAt !== undefined", polling=250, timeout=120_000)
                    seconds.append(tab.evaluate("(window.shownAt - window.clickedAt) / 1000"))
                    context.close()
                browser.close()
        finally:
            server.stop()
    return seconds[1:]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cli = command_line(args.rounds)
    print(f"command line: {', '.join(f'{s:.2f}' for s in cli)} s", flush=True)
    on_page = page(args.rounds)
    print(f"page: {'not measured' if on_page is None else ', '.join(f'{s:.2f}' for s in on_page)} s", flush=True)
    rows = [("command line, start-up included", cli), ("of which start-up: a fresh Python importing torch",
                                                        start_up(args.rounds)),
            ("the preview alone, in a started process", in_process(args.rounds))]
    if on_page is not None:
        rows.append(("page: click to the first frame shown", on_page))
    lines = [
        "## Dream a Stage: motion preview of examples/giro_stage.toml (275 frames, 256 px)",
        "",
        f"Machine: {machine()}",
        "",
        f"Median of {args.rounds} rounds (the page's first round warms the server and is not counted).",
        "",
        "| where | median s | rounds (s) |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {statistics.median(s):.2f} | {', '.join(f'{v:.2f}' for v in s)} |" for name, s in rows]
    if on_page is None:
        lines += ["", "The page was not measured: Playwright or Chromium is missing (`make test` installs them)."]
    write_section("dream-preview", "\n".join(lines))


if __name__ == "__main__":
    main()
