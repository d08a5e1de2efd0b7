"""ui.link: how much of a socket's data its peer has taken, from the kernel's count."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from tests.dream.test_broadcast import run
from ui.link import Link


@pytest.fixture
def pair():
    """A server's end of a TCP connection, and the peer's, which reads only when told."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        peer = socket.socket()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect(listener.getsockname())
        end, _ = listener.accept()
    with end, peer:
        yield end, peer


def as_websocket(end: socket.socket):
    """What the route has of its connection: the two addresses in its ASGI scope."""
    return SimpleNamespace(scope={"client": end.getpeername(), "server": end.getsockname()})


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="the kernel's count is Linux's TCP_INFO")
def test_a_link_counts_what_its_peer_has_taken(pair):
    end, peer = pair
    link = Link.of(as_websocket(end))
    assert link is not None
    try:
        data = memoryview(bytes(32 << 20))  # more than the kernel buffers (4 MB on Linux)
        end.setblocking(False)
        taken = 0
        try:
            while taken < len(data):
                taken += end.send(data[taken:])
        except BlockingIOError:  # the peer reads nothing: what it can buffer, and no more
            pass
        assert 0 < taken < len(data)
        assert not run(link.reached(taken, wait=0.2))
        end.setblocking(True)
        received = 0
        while received < taken:
            received += len(peer.recv(65536))
        assert run(link.reached(taken, wait=30))
    finally:
        link.close()
    end.sendall(b"still open")  # the link's close leaves the server's socket as it was
    assert peer.recv(64) == b"still open"


def test_no_link_where_there_is_no_socket_to_count():
    assert Link.of(SimpleNamespace(scope={"client": None, "server": None})) is None
    # Starlette's TestClient has no socket: its made-up address matches none of the process's.
    assert Link.of(SimpleNamespace(scope={"client": ("testclient", 50000), "server": ("testserver", 80)})) is None
