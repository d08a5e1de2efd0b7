"""Load: ten browser sessions classify photos at the same time for a minute.

Zero errors, every answer equal to what a lone session gets, p50 / p95 latency recorded, and the
server's memory flat in the number of sessions (one copy of each model per process).
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import pytest

from tests.browser.conftest import SCRIPT_DONE
from tests.browser.chromium import find_chromium
from tests.browser.server import CHROMIUM_ARGS, AppServer
from tests.reliability.figures import record

SESSIONS = 10
SECONDS = 60
PHOTOS = ("circle", "square", "triangle")

pytestmark = pytest.mark.heavy


class Session:
    """One browser tab on Bike ID: upload a photo, read the answer, remove the photo, again."""

    def __init__(self, context, url: str):
        self.context, self.url = context, url
        self.latencies: list[float] = []
        self.answers: list[tuple[str, tuple[str, ...]]] = []
        self.errors: list[str] = []

    async def open(self) -> None:
        self.page = await self.context.new_page()
        await self.page.goto(f"{self.url}/Bike_ID")
        await self.idle()
        await self.page.get_by_role("tab", name="Upload").click()

    async def idle(self) -> None:
        await self.page.wait_for_selector("h1", timeout=120_000)
        await self.page.wait_for_function(SCRIPT_DONE, timeout=120_000)

    async def classify(self, name: str, photo: bytes) -> tuple[str, tuple[str, ...]]:
        """Upload `photo` as `name`; the verdict and the chart's bar labels, as the user sees them."""
        page = self.page
        began = time.monotonic()
        await page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            files=[{"name": name, "mimeType": "image/jpeg", "buffer": photo}])
        await page.get_by_text(f"{name}, as the model sees it").wait_for(timeout=120_000)
        await page.locator('[data-testid="stPlotlyChart"] .bartext').last.wait_for(timeout=120_000)
        await self.idle()
        self.latencies.append(time.monotonic() - began)
        verdict = await page.locator('[data-testid="stMarkdownContainer"]', has_text="sure").last.inner_text()
        bars = await page.evaluate(
            "() => { const charts = document.querySelectorAll('[data-testid=\"stPlotlyChart\"]');"
            " return [...charts[charts.length - 1].querySelectorAll('.bartext')].map(t => t.textContent); }")
        problems = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
        if problems:
            self.errors.append(f"{name}: {problems} error element(s) on the page")
        await page.get_by_role("button", name=f"Remove {name}").click()
        await page.get_by_text(f"{name}, as the model sees it").wait_for(state="detached", timeout=120_000)
        await self.idle()
        return verdict.strip(), tuple(sorted(bars))


async def drive(url: str, photos: dict[str, bytes], server: AppServer) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)

        # One session alone: the reference answers, and the memory of a server that has loaded its model.
        alone = Session(await browser.new_context(), url)
        await alone.open()
        reference = {kind: await alone.classify(f"alone-{kind}.jpg", photo) for kind, photo in photos.items()}
        await alone.context.close()
        rss_one = server.rss_mb()

        sessions = [Session(await browser.new_context(), url) for _ in range(SESSIONS)]
        await asyncio.gather(*(s.open() for s in sessions))
        rss_peak = server.rss_mb()
        cpu_before, began = server.cpu_seconds(), time.monotonic()
        deadline = began + SECONDS

        async def loop(n: int, session: Session) -> None:
            i = 0
            while time.monotonic() < deadline:
                kind = PHOTOS[(n + i) % len(PHOTOS)]
                try:
                    answer = await session.classify(f"s{n}-{i}-{kind}.jpg", photos[kind])
                except Exception as error:  # a timeout is an error of the app under load
                    session.errors.append(f"s{n}-{i}: {type(error).__name__}: {str(error)[:200]}")
                    return
                session.answers.append((kind, answer))
                i += 1

        async def sample_memory() -> None:
            nonlocal rss_peak
            while time.monotonic() < deadline:
                rss_peak = max(rss_peak, server.rss_mb())
                await asyncio.sleep(1)

        await asyncio.gather(sample_memory(), *(loop(n, s) for n, s in enumerate(sessions)))
        rss_ten = server.rss_mb()
        server_cores = (server.cpu_seconds() - cpu_before) / (time.monotonic() - began)
        await browser.close()
    return {"reference": reference, "alone": alone.latencies, "sessions": sessions, "server_cores": server_cores, "rss_one": rss_one, "rss_ten": rss_ten,
            "rss_peak": rss_peak}


def test_ten_sessions_classify_for_a_minute(server_env, shapes_data, trained, tmp_path):
    photos = {kind: sorted((shapes_data / kind).glob("*.jpg"))[3].read_bytes() for kind in PHOTOS}
    server = AppServer(server_env, tmp_path / "streamlit.log")
    server.start()
    outcome = {}
    try:
        # The async API gets a thread of its own: the sync browser fixture owns this thread's loop.
        worker = threading.Thread(target=lambda: outcome.update(asyncio.run(drive(server.url, photos, server))))
        worker.start()
        worker.join(timeout=SECONDS + 600)
        assert outcome, "the load run did not finish"
    finally:
        server.stop()

    sessions, reference = outcome["sessions"], outcome["reference"]
    errors = [e for s in sessions for e in s.errors]
    wrong = [(kind, answer) for s in sessions for kind, answer in s.answers if answer != reference[kind]]
    latencies = sorted(t for s in sessions for t in s.latencies)
    learner_mb = trained["pkl"].stat().st_size / 2**20
    figures = {
        "sessions": SESSIONS, "seconds": SECONDS, "classifications": len(latencies),
        "errors": len(errors), "answers_differing_from_a_lone_session": len(wrong),
        "latency_s": {"p50": round(statistics.median(latencies), 2),
                      "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
                      "max": round(latencies[-1], 2),
                      "lone_session_median": round(statistics.median(outcome["alone"]), 2)},
        "server_rss_mb": {"one_session": round(outcome["rss_one"]), "ten_sessions": round(outcome["rss_ten"]),
                          "peak": round(outcome["rss_peak"])},
        "learner_file_mb": round(learner_mb, 1),
        # Cores the server kept busy during the minute; Chromium's ten tabs had the rest of the machine.
        "server_cores_busy": round(outcome["server_cores"], 2),
        "server_tracebacks": server.tracebacks(),
    }
    record("load", figures)
    assert not errors, errors[:5]
    assert not wrong, wrong[:5]
    assert all(len(s.answers) >= 3 for s in sessions), [len(s.answers) for s in sessions]
    assert figures["server_tracebacks"] == 0
    # Nine more sessions cost less than one more copy of the model would.
    assert outcome["rss_ten"] - outcome["rss_one"] < learner_mb, figures["server_rss_mb"]
