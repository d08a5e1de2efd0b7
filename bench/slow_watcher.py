"""A watcher slower than the Live stream (a phone on bad Wi-Fi): how old its frames are when they
arrive, and how many it gets.

A real `LiveStream` at 512 px, fed at 30 frames a second by the stand-in of `bench.steady`, from
scikit-image's astronaut; its route (`ui.routes`) on uvicorn with the
WebSocket code Streamlit runs it on, over TCP on this machine. One watcher behind a link of each
rate: a relay passes the server's bytes on at that rate, reading through a small receive buffer as
a slow path holds little, so what waits, waits in the server's buffers. Each rate four times, side by
side: over HTTP and over HTTPS (`make serve`, for phones), the route as it is and as before
`ui.link` (sending as the socket took). Age: from a frame's making to its last byte's arrival.

    python -m bench.slow_watcher [--seconds 20] [--rates 100 300 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import ssl
import statistics
import struct
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image
from skimage import data
from websockets.sync.client import connect

from bench.results import machine, write_section
from bench.serving import serving_routes
from bench.steady import SteadyModel
from core.dream.live import LiveSettings, LiveStream
from core.lan import make_certificate
from ui import routes

RATE = 30  # frames a second: the slower stream of `bench.live --page`
SIZE = 512
CHUNK = 4096


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="how long each watcher watches")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 300, 1000], help="the links' rates, KB a second")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        certificate = make_certificate(Path(scratch))
        for rate in args.rates:
            for secure in (False, True):
                for linked in (True, False):
                    rows.append(watch(rate * 1000, linked, certificate if secure else None, args.seconds))
                    row = rows[-1]
                    print(f"{rate} KB/s over {row['scheme']}, {row['route']}: {row['taken']:.1f} frames a second "
                          f"of {row['made']:.1f}, {row['kb']:.0f} KB each, age median {row['median']:.2f} s, "
                          f"last {row['last']:.2f} s", flush=True)
                    write_results(rows, args.seconds)


class _NoLink:  # the route before `ui.link`: it sent as the socket took
    @staticmethod
    def of(websocket) -> None:
        return None


def watch(rate: float, linked: bool, certificate: tuple[Path, Path] | None, seconds: float) -> dict:
    start = np.asarray(Image.fromarray(data.astronaut()).resize((SIZE, SIZE)))
    model = SteadyModel(1 / RATE)
    stream = LiveStream("bench", model, LiveSettings("an astronaut", size=SIZE), start,
                        lost_seconds=3600, idle_seconds=3600)
    patched = contextlib.nullcontext() if linked else mock.patch.object(routes, "Link", _NoLink)
    with patched, serving_routes(certificate) as port:
        try:
            address = f"{'wss' if certificate else 'ws'}://127.0.0.1:{_relay(port, rate)}/giro/live/{stream.id}"
            trust = ssl.create_default_context(cafile=str(certificate[0])) if certificate else None
            arrivals = []
            with connect(address, max_size=None, ssl=trust) as watcher:
                began = time.monotonic()
                while time.monotonic() - began < seconds:
                    message = watcher.recv()
                    if isinstance(message, bytes):
                        arrivals.append((time.monotonic(), _index(message), len(message)))
                watcher.close_socket()  # gone at once, as a phone's Wi-Fi goes: a closing handshake waits behind a backlog
            made_rate = (len(model.made) - 1) / (model.made[-1] - model.made[0])
        finally:
            stream.stop()
            stream.join(30)
    late = [(t, index, size) for t, index, size in arrivals if t - arrivals[0][0] > seconds / 2]
    ages = [t - model.made[index] for t, index, _ in late]
    return dict(rate=rate, scheme="HTTPS" if certificate else "HTTP", route="as it is" if linked else "as before",
                taken=(len(late) - 1) / (late[-1][0] - late[0][0]), made=made_rate,
                kb=statistics.median(size for _, _, size in late) / 1000,
                median=statistics.median(ages), last=ages[-1])


def _index(message: bytes) -> int:
    """The frame's index, from the caption ahead of its JPEG (`core.dream.broadcast.message`)."""
    length = struct.unpack(">I", message[:4])[0]
    return json.loads(message[4:4 + length])["index"]


def _relay(port: int, rate: float) -> int:
    """A port whose one connection reaches `port` through a link of `rate` bytes a second."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        near, _ = listener.accept()
        far = socket.socket()
        far.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CHUNK)  # before connecting: the window it offers
        far.connect(("127.0.0.1", port))
        threading.Thread(target=_pass, args=(near, far, None), daemon=True).start()
        _pass(far, near, rate)

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def _pass(source: socket.socket, sink: socket.socket, rate: float | None) -> None:
    began, passed = time.monotonic(), 0
    try:
        while chunk := source.recv(CHUNK):
            sink.sendall(chunk)
            passed += len(chunk)
            if rate:
                time.sleep(max(0.0, passed / rate - (time.monotonic() - began)))
    except OSError:
        pass
    finally:
        sink.close()


def write_results(rows: list[dict], seconds: float) -> None:
    lines = [
        "## Live Dream: a watcher slower than the stream",
        "",
        f"Machine: {machine()}",
        "",
        " ".join(__doc__.split("\n\n    python")[0].split()) + f" Over the second half of {seconds:g} s each; "
        "frames made / s is what the stream reached on this machine.",
        "",
        "| link KB / s | over | route | frames taken / s | frames made / s | KB a frame | age, median (s) | age, last frame (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['rate'] / 1000:g} | {r['scheme']} | {r['route']} | {r['taken']:.1f} | {r['made']:.1f} | {r['kb']:.0f} "
                     f"| {r['median']:.2f} | {r['last']:.2f} |")
    write_section("live-slow", "\n".join(lines))


if __name__ == "__main__":
    main()
