"""How much of a live socket's data has reached the watcher: the kernel's count of the bytes its
peer acknowledged (Linux's TCP_INFO), so the live route sends a frame only when the ones before it
have gone.

Counting what the route has sent is not enough: between it and the network lie uvicorn's buffer
(64 KB), under HTTPS the TLS layer's (512 KB), and the kernel's send buffer (megabytes), and a
watcher slower than the stream (a phone on bad Wi-Fi) would be sent frame after frame into them,
each older when it arrives than the one before (`python -m bench.slow_watcher`). None of those
buffers is the route's to set; the peer's acknowledgements say what has left them all.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import struct

from starlette.websockets import WebSocket

BYTES_ACKED = struct.Struct("=Q"), 120  # tcpi_bytes_acked's place in struct tcp_info (Linux 4.1+)
LOOK_EVERY = 0.005  # seconds between looks at the count while a watcher is taking a frame


class Link:
    def __init__(self, sock: socket.socket):
        self._socket = sock  # a duplicate of the server's descriptor: `close` it when the route ends
        self._start = self._acked()

    @classmethod
    def of(cls, websocket: WebSocket) -> Link | None:
        """The link under `websocket`: its TCP socket, found among the process's own by its two
        addresses (Starlette does not hand a route its socket). None where the kernel cannot say
        (no /dev/fd, no TCP_INFO, not TCP): the route then sends as the socket takes."""
        ends = websocket.scope.get("client"), websocket.scope.get("server")
        if None in ends or not hasattr(socket, "TCP_INFO") or not os.path.isdir("/dev/fd"):
            return None
        client, server = (tuple(end)[:2] for end in ends)
        for name in os.listdir("/dev/fd"):
            try:
                if not stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                    continue
                candidate = socket.socket(fileno=os.dup(int(name)))
            except (OSError, ValueError):  # closed since it was listed
                continue
            try:
                if candidate.getpeername()[:2] == client and candidate.getsockname()[:2] == server:
                    return cls(candidate)
            except (OSError, TypeError, struct.error):  # not connected, not an internet socket, no count
                pass
            candidate.close()
        return None

    async def reached(self, count: int, wait: float = 1.0) -> bool:
        """Whether the watcher has acknowledged `count` bytes of what was sent since the link was
        found, waiting up to `wait` seconds for it. (Under HTTPS the count includes the TLS
        records' few bytes of framing: a frame counts as reached a little early.)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while self._acked() - self._start < count:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(LOOK_EVERY)
        return True

    def close(self) -> None:
        self._socket.close()

    def _acked(self) -> int:
        layout, offset = BYTES_ACKED
        return layout.unpack_from(self._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), offset)[0]
