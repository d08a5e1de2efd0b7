"""ui.routes: a finished render's files streamed from disk, and nothing else."""

from __future__ import annotations

import io
import json
import shutil
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ui.routes import ROUTES

RUN_V1 = Path(__file__).parent / "dream" / "fixtures" / "run_v1"


@pytest.fixture
def client(giro_folders):
    return TestClient(Starlette(routes=ROUTES))


@pytest.fixture
def run(giro_folders) -> Path:
    """A finished render whose stage names a server folder for its model and a session's start image."""
    run = giro_folders["runs"] / "20260101-120000-a-road-abc123"
    shutil.copytree(RUN_V1, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stage"]["render"].update(model=str(giro_folders["models"] / "my-sd"),
                                       first_image=str(giro_folders["runs"] / "_starts" / "0123456789ab" / "x.png"))
    (giro_folders["models"] / "my-sd").mkdir()
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "loop.gif").write_bytes(b"GIF89a-not-really")
    return run


def test_ten_guests_download_the_frames_at_once(client, run):
    """Each gets the whole zip (made once on the first request, for a run completed before renders
    wrote one); a fixed temporary name once made two of three fail."""
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda _: client.get(f"/giro/runs/{run.name}/frames.zip"), range(10)))
    for reply in replies:
        assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
        assert reply.headers["content-disposition"] == f'attachment; filename="{run.name}-frames.zip"'
        with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
            assert archive.testzip() is None and len(archive.namelist()) == 4


def test_the_stage_comes_without_server_paths_and_imports_again(client, run, giro_folders):
    from core.dream.stage import parse_uploaded_stage

    reply = client.get(f"/giro/runs/{run.name}/stage.toml")
    assert reply.status_code == 200
    assert str(giro_folders["models"]) not in reply.text and "_starts" not in reply.text
    assert "0123456789ab" not in reply.text  # the session's id was in its start image's path
    stage = tomllib.loads(reply.text)
    assert stage["render"]["model"] == "my-sd" and stage["render"]["first_image"] == ""
    parse_uploaded_stage(reply.content, "shared.toml")
    assert client.get(f"/giro/runs/{run.name}/loop.gif").content == b"GIF89a-not-really"


@pytest.mark.parametrize("path", [
    "/giro/runs/{run}/manifest.json", "/giro/runs/{run}/frames", "/giro/runs/{run}/loop.mp4",  # not there
    "/giro/runs/nothing-here/loop.gif", "/giro/runs/_starts/loop.gif", "/giro/runs/..%2F..%2Fetc/loop.gif",
    "/giro/runs/{run}%2F..%2F{run}/loop.gif", "/giro/runs/.hidden/loop.gif",
])
def test_anything_else_is_a_plain_404(client, run, path):
    reply = client.get(path.format(run=run.name))
    assert reply.status_code == 404 and reply.text == "Not Found"


def test_an_unfinished_render_has_nothing_to_download(client, run):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["status"] = "rendering"
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert client.get(f"/giro/runs/{run.name}/loop.gif").status_code == 404


class StandIn:
    """img2img that gives the frame back as it came: the route's side needs no model."""

    device = "cpu"

    def encode(self, prompt: str, negative_prompt: str = ""):
        return torch.zeros(1), torch.zeros(1)

    def redraw(self, images, embeds, variants, seed, stop):
        return None if stop() else images


@pytest.fixture
def stream():
    from core.dream.live import LiveSettings, LiveStream

    start = np.asarray(Image.effect_mandelbrot((64, 64), (-2, -1.5, 1, 1.5), 32).convert("RGB"))
    stream = LiveStream("owner", StandIn(), LiveSettings("a road", size=64), start,
                        lost_seconds=3600, idle_seconds=3600)
    yield stream
    stream.stop()
    stream.join(30)


def frames(socket, count: int) -> list[int]:
    """The indexes of the next `count` frames a socket brings (notes between them skipped)."""
    from tests.dream.test_broadcast import unpack

    indexes = []
    while len(indexes) < count:
        message = socket.receive()
        assert message["type"] != "websocket.close", f"the socket closed after {indexes}"
        if message.get("bytes") is not None:
            indexes.append(unpack(message["bytes"])[0]["index"])
    return indexes


def test_every_watcher_gets_the_streams_frames_in_order(client, stream):
    with client.websocket_connect(f"/giro/live/{stream.id}") as first, \
            client.websocket_connect(f"/giro/live/{stream.id}") as second:
        for socket in (first, second):
            seen = frames(socket, 4)
            assert seen == sorted(set(seen))  # each frame once, newer and newer


def test_only_the_steering_key_counts_as_the_tab_being_there(client, stream):
    unseen = stream._seen = time.monotonic() - 100  # a while ago (the stream gives up after an hour)
    with client.websocket_connect(f"/giro/live/{stream.id}?steer=not-the-key") as socket:
        frames(socket, 2)
    assert stream._seen == unseen  # a watcher's socket does not count
    with client.websocket_connect(f"/giro/live/{stream.id}?steer={stream.steer_key}") as socket:
        frames(socket, 2)
    assert stream._seen > unseen


def test_a_stopped_or_unknown_stream_is_a_plain_404(client, stream):
    from starlette.testclient import WebSocketDenialResponse

    with client.websocket_connect(f"/giro/live/{stream.id}") as socket:
        frames(socket, 1)
        stream.stop()
        note = {}
        while not note:  # frames sent before the stop, and "{}" for a second without a frame
            note = json.loads(socket.receive().get("text") or "{}")
        assert note == {"stopped": "stopped"}
    stream.join(30)
    for address in (f"/giro/live/{stream.id}", "/giro/live/0123456789abcdef", "/giro/live/x/../runs"):
        assert client.get(address).status_code == 404
        with pytest.raises(WebSocketDenialResponse) as denied:
            client.websocket_connect(address).__enter__()
        assert denied.value.status_code == 404


@pytest.fixture(params=["http", "https"])
def served(request, tmp_path):
    """The routes on a real uvicorn server over TCP (`bench.serving`), over HTTP and HTTPS: its port,
    and the client's TLS context or None."""
    import ssl

    from bench.serving import serving_routes
    from core.lan import make_certificate

    certificate = make_certificate(tmp_path) if request.param == "https" else None
    trust = ssl.create_default_context(cafile=str(certificate[0])) if certificate else None
    with serving_routes(certificate) as port:
        yield port, trust


def test_a_watcher_slower_than_the_stream_gets_the_newest_frame_not_a_backlog(served):
    import socket

    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.uri import parse_uri

    from bench.steady import SteadyModel
    from core.dream.live import LiveSettings, LiveStream
    from tests.dream.test_broadcast import unpack

    # Noise: each frame's JPEG is larger than everything the server's buffers may hold back.
    start = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    model = SteadyModel(0.0)  # a frame as fast as the stream makes them; `made` counts them
    stream = LiveStream("owner", model, LiveSettings("a road", size=512), start, lost_seconds=3600, idle_seconds=3600)
    # A phone on bad Wi-Fi: it takes a frame, then the stream makes `more` before it takes the next.
    more = 3
    port, trust = served
    phone = socket.socket()
    phone.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    phone.connect(("127.0.0.1", port))
    if trust:
        phone = trust.wrap_socket(phone, server_hostname="127.0.0.1")
    scheme = "wss" if trust else "ws"
    protocol = ClientProtocol(parse_uri(f"{scheme}://127.0.0.1:{port}/giro/live/{stream.id}"), max_size=None)
    protocol.send_request(protocol.connect())

    def next_index() -> int:
        while True:
            phone.sendall(b"".join(protocol.data_to_send()))  # the handshake, pongs
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                    return unpack(event.data)[0]["index"]
            data = phone.recv(4096)
            assert data, "the socket closed"
            protocol.receive_data(data)

    try:
        behind = []
        for _ in range(12):
            index = next_index()
            behind.append(len(model.made) - 1 - index)  # made[0]: the start, frame 0
            deadline, wanted = time.monotonic() + 60, len(model.made) + more
            while len(model.made) < wanted:
                assert time.monotonic() < deadline and not stream.broadcast.closed, "the stream stopped making frames"
                time.sleep(0.01)
        # Sent every frame, it falls further behind with each one it takes; sent the newest, it stays
        # about `more` behind, and the frame in the server's buffers when it took the last one.
        assert max(behind[4:]) <= 3 * more, f"frames behind the stream when taken: {behind}"
    finally:
        phone.close()
        stream.stop()
        stream.join(30)
