"""The app as a user runs it (`streamlit run app.py`) on a free port, and the flags Chromium
runs with (which Chromium: `tests.browser.chromium`)."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
# The Makefile's setting: glibc's per-thread memory pools otherwise grow the server by ~15 MB per
# session that runs a model (docs/RELIABILITY.md).
MALLOC_ARENA_MAX = "2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """One `streamlit run app.py` process; it can be stopped, killed and started again on its port."""

    def __init__(self, env: dict[str, str], log: Path, certificate: tuple[Path, Path] | None = None,
                 script: str = "app.py", root: Path = ROOT):
        """`certificate` (cert, key): serve HTTPS as `make serve` does. `script`: another app than Giro
        Dreams; `root`: another checkout to serve it from."""
        self.script, self.root = script, root
        # As `make run` and `make serve` set them.
        self.env = dict(env, MALLOC_ARENA_MAX=MALLOC_ARENA_MAX, FORWARDED_ALLOW_IPS="")
        self.log = log
        self.port = free_port()
        self.args = ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        self.ssl = None
        if certificate:
            self.args += ["--server.sslCertFile", str(certificate[0]), "--server.sslKeyFile", str(certificate[1])]
            self.ssl = ssl.create_default_context(cafile=str(certificate[0]))
        self.url = f"https://localhost:{self.port}" if certificate else f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> str:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", self.script, *self.args],
                cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_healthy(timeout)
        return self.url

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}: see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2, context=self.ssl) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"{self.url} did not become healthy in {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as when the machine loses power or the OOM killer strikes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def rss_mb(self) -> float:
        """Resident memory of the server process."""
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, all its threads together."""
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")
