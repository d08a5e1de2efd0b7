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
