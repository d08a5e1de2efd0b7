"""core.dream.broadcast: each frame encoded once for every watcher, the newest for a slow one, and
nothing left behind when the stream ends."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from core.dream.broadcast import GAP, Broadcast, message


def unpack(data: bytes) -> tuple[dict, np.ndarray]:
    """A message as the page's script splits it: the caption's JSON, then the JPEG."""
    length = struct.unpack(">I", data[:4])[0]
    return json.loads(data[4:4 + length]), np.asarray(Image.open(io.BytesIO(data[4 + length:])))


def run(coroutine):
    """`coroutine` run to its end in a thread of its own, as the server's event loop runs beside the
    stream (and since Playwright's sync API, used by other tests, marks this thread's loop running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def picture(value: int) -> torch.Tensor:
    return torch.full((3, 32, 48), value, dtype=torch.uint8)


def test_a_message_is_the_caption_and_one_jpeg_of_the_pictures_side_by_side():
    caption, image = unpack(message([picture(0), picture(255)], {"index": 7, "caption": "Frame 7 · é"}))
    assert caption == {"index": 7, "caption": "Frame 7 · é"}
    assert image.shape == (32, 2 * 48 + GAP, 3)
    assert image[:, :40].mean() < 8 and image[:, -40:].mean() > 247  # black left, white right


def test_a_slow_watcher_gets_the_newest_frame_and_skips_the_rest():
    broadcast = Broadcast("test")
    try:
        for index in range(1, 21):  # the stream offers faster than anyone watches
            broadcast.offer([picture(index)], {"index": index})

        async def watch(seq: int) -> tuple[int, dict]:
            got = await broadcast.next_after(seq, timeout=60)
            assert got is not None
            return got[0], unpack(got[1])[0]

        seq, caption = 0, {"index": 0}
        while caption["index"] < 20:  # the encoder reaches the newest frame
            seq, caption = run(watch(seq))
        assert seq <= 20  # never more messages than frames, and offers in between were let go
        assert run(watch(0)) == (seq, {"index": 20})  # a watcher far behind gets the newest at once
    finally:
        broadcast.close()


def test_closing_lets_waiting_watchers_go_and_ends_the_encoder():
    broadcast = Broadcast("closing")
    closing = threading.Timer(0.2, broadcast.close)  # the stream ends while a watcher waits

    async def wait_for_a_frame_that_never_comes():
        closing.start()
        return await broadcast.next_after(0, timeout=600)

    assert run(wait_for_a_frame_that_never_comes()) is None
    closing.join()
    assert broadcast.closed
    assert not [t for t in threading.enumerate() if t.name == "closing-jpeg"]  # the encoder has ended
    broadcast.offer([picture(1)], {"index": 1})  # a late offer is ignored, not an error
