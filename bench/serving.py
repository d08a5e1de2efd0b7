"""The app's own routes (`ui.routes`) on a real uvicorn server over TCP on this machine, with the
WebSocket code Streamlit runs them on (its `_get_websocket_protocol`: websockets-sansio), over HTTP
or, with a certificate, HTTPS (`make serve`): the kernel's buffers, and TLS's, are part of what a
watcher gets. For the slow watcher's bench and its test."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ui import routes


@contextlib.contextmanager
def serving_routes(certificate: tuple[Path, Path] | None = None, start_seconds: float = 60) -> Iterator[int]:
    """The routes served while inside: their port. `certificate`: (certificate, key) files for HTTPS.
    On leaving, waits up to 10 s for the connections to close first (uvicorn's shutdown fails on
    one mid-close)."""
    tls = dict(ssl_certfile=str(certificate[0]), ssl_keyfile=str(certificate[1])) if certificate else {}
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes.ROUTES), host="127.0.0.1", port=0,
                                           ws="websockets-sansio", log_level="warning", **tls))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_seconds
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        closing = time.monotonic() + 10
        while server.server_state.connections and time.monotonic() < closing:
            time.sleep(0.01)
        server.should_exit = True
        thread.join(30)
