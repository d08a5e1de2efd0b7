"""Routes of our own on Streamlit's server (`st.App`, see app.py): what a page links to instead of
sending through its websocket.

- `/giro/runs/RUN/NAME`: a finished render's GIF, MP4, frames zip or stage file, streamed from disk
  (a download button held each file in the server's memory for as long as its tab stayed open).
  Only the four files of a complete run folder directly in the runs folder; anything else is a
  plain 404. The stage comes as a guest may see it: the model's name, no server path.
- `/giro/live/STREAM`: the live stream's frames over a WebSocket, each as it is made (see
  `core.dream.broadcast`): only this server's stream, only while it runs; any other address is
  refused (and a plain 404 over HTTP). The steering tab's socket carries `?steer=KEY`, and its
  watching counts as the tab being there; a closed tab stops counting at once. A watcher slower
  than the stream (a phone on bad Wi-Fi) is sent the newest frame when the last one has gone, not
  a backlog (`ui.link`).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from core import settings
from core.dream.live import LiveStream
from core.dream.run import GIF, MP4, ZIP, RunFolder
from core.dream.stage import shared_stage, stage_from_dict, stage_to_toml
from core.errors import GiroError
from ui.link import Link

STAGE = "stage.toml"
DOWNLOADS = {GIF: "image/gif", MP4: "video/mp4", ZIP: "application/zip", STAGE: "application/toml"}
RUNS = "/giro/runs"
LIVE = "/giro/live"


def run_file_url(run_dir: Path, name: str) -> str:
    """Where a page links to file `name` of run `run_dir` (relative: the app's own address)."""
    return f"{RUNS}/{run_dir.name}/{name}"


async def run_file(request: Request) -> Response:
    name, folder = request.path_params["name"], request.path_params["run"]
    runs = settings.runs_dir().resolve()
    run_dir = (runs / folder).resolve()
    if name not in DOWNLOADS or folder.startswith((".", "_")) or run_dir.parent != runs:
        return _not_found()
    run = RunFolder(run_dir)
    try:
        manifest = await run_in_threadpool(run.manifest)
    except (GiroError, OSError):
        return _not_found()
    if manifest is None or not manifest.complete:
        return _not_found()
    download = f"{run_dir.name}{Path(name).suffix}" if name != ZIP else f"{run_dir.name}-frames.zip"
    if name == STAGE:
        try:
            text = stage_to_toml(shared_stage(stage_from_dict(manifest.stage, check=False)))
        except GiroError:
            return _not_found()
        return Response(text, media_type=DOWNLOADS[name],
                        headers={"Content-Disposition": f'attachment; filename="{download}"'})
    if name == ZIP:  # made once, for a run completed before renders wrote one
        try:
            path = await run_in_threadpool(run.frames_zip, manifest.frames_total)
        except (GiroError, OSError):
            return _not_found()
    else:
        path = run_dir / name
    if not path.is_file():
        return _not_found()
    return FileResponse(path, media_type=DOWNLOADS[name], filename=download)


def live_url(stream: LiveStream, steering: bool) -> str:
    """Where a page watches `stream` (relative: the app's own address)."""
    return f"{LIVE}/{stream.id}" + (f"?steer={stream.steer_key}" if steering else "")


async def live_socket(websocket: WebSocket) -> None:
    stream = LiveStream.find(websocket.path_params["stream"])
    if stream is None:
        await websocket.send_denial_response(_not_found())
        return
    steering = websocket.query_params.get("steer") == stream.steer_key
    await websocket.accept()
    link = Link.of(websocket)
    seq, sent, sent_before = 0, 0, 0  # bytes sent through the last message, and through the one before it
    try:
        while True:
            # At most two messages on their way: a watcher slower than the stream gets the newest frame
            # once the one before has reached it, not a backlog in the buffers on the way (ui/link.py).
            taken = link is None or await link.reached(sent_before)
            got = await stream.broadcast.next_after(seq) if taken else None
            if got is not None:
                seq, data = got
                await websocket.send_bytes(data)
            elif stream.broadcast.closed:
                await websocket.send_text(json.dumps({"stopped": stream.message or "the live stream stopped"}))
                await websocket.close()
                return
            else:  # no frame this second, or the last still on its way: a note, which fails if the tab is gone
                data = "{}"
                await websocket.send_text(data)
            sent_before, sent = sent, sent + len(data)
            if steering and taken:  # the tab took what it was sent: it is there
                stream.heartbeat()
    except (WebSocketDisconnect, OSError):  # the tab is gone (uvicorn's ClientDisconnected is an OSError)
        return
    finally:
        if link is not None:
            link.close()


async def no_live_page(request: Request) -> Response:
    return _not_found()


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


ROUTES = [Route(RUNS + "/{run}/{name}", run_file), WebSocketRoute(LIVE + "/{stream}", live_socket),
          Route(LIVE + "/{stream}", no_live_page)]
