"""`core.setup` started from a page: one run per server at a time, in a background thread.

The page that starts it may reload or close; the run goes on, and any page of the host's can
watch it. Every method is thread-safe: sessions read a snapshot taken under the lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from core.setup import Options, Outcome, run_setup

LINES_KEPT = 200


@dataclass(frozen=True)
class SetupState:
    running: bool
    parts: tuple[str, ...]  # what the latest run was asked for
    lines: tuple[str, ...]  # its log, oldest first
    outcomes: tuple[Outcome, ...]
    seconds: float  # since it started

    @property
    def done(self) -> int:
        """Parts finished: each leaves its outcome."""
        return len(self.outcomes)

    @property
    def fraction(self) -> float:
        return self.done / len(self.parts) if self.parts else 0.0


class SetupJob:
    def __init__(self, options: Options):
        self._options = options
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._parts: tuple[str, ...] = ()
        self._lines: deque[str] = deque(maxlen=LINES_KEPT)
        self._outcomes: list[Outcome] = []
        self._began = 0.0

    def start(self, parts: list[str]) -> bool:
        """Start a run of `parts`; False (and nothing started) while another run goes on."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._parts, self._outcomes, self._began = tuple(parts), [], time.monotonic()
            self._lines.clear()
            self._thread = threading.Thread(target=self._run, name="giro-setup", daemon=True)
            self._thread.start()
            return True

    def state(self) -> SetupState:
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            return SetupState(running, self._parts, tuple(self._lines),
                              tuple(self._outcomes), time.monotonic() - self._began if self._parts else 0.0)

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        for part in self._parts:  # one at a time, so the page counts parts as they finish
            [outcome] = run_setup([part], self._options, self._log)
            with self._lock:
                self._outcomes.append(outcome)

    def _log(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
