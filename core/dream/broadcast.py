"""Live frames to every watcher at the stream's own rate: each frame encoded once, for all of them.

The stream offers each new frame (`offer`: the newest replaces one not yet encoded, so the stream
never waits); a thread of the broadcast's own encodes it as one JPEG (on the GPU where the frame
is, `torchvision.io.encode_jpeg` takes CUDA tensors) with what it was made with, and wakes the
watchers. A watcher (`next_after`, awaited in the server's event loop) always gets the newest
message: a slow one (a phone on bad Wi-Fi) skips frames and never backs up the stream or holds
more than the one message the broadcast keeps.

A message is the caption's JSON and the JPEG in one binary piece: 4 bytes of the JSON's length
(big-endian), the JSON, the JPEG. The page's script splits it (`ui/dream/live_view.js`).
"""

from __future__ import annotations

import asyncio
import json
import struct
import threading
from collections.abc import Sequence

import torch

QUALITY = 85  # JPEG quality: a 512 px frame in about 40 kB, sharp on a laptop's screen
GAP = 4  # pixels of white between pictures side by side (A/B)


class Broadcast:
    def __init__(self, name: str):
        self._lock = threading.Lock()
        self._offered: tuple[Sequence[torch.Tensor], dict] | None = None
        self._wake = threading.Event()
        self._closed = False
        self._seq = 0
        self._message = b""
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread = threading.Thread(target=self._encode_frames, name=f"{name}-jpeg", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the stream's side

    def offer(self, pictures: Sequence[torch.Tensor], caption: dict) -> None:
        """The newest frame: (3, H, W) uint8 pictures (one, or each variant's, side by side) on any
        device, and what to say under it. Never waits."""
        with self._lock:
            self._offered = (pictures, caption)
        self._wake.set()

    def close(self) -> None:
        """The stream has ended: watchers are let go, and the encoder thread has ended on return
        (a stream that stops leaves no thread behind)."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters)
        self._wake.set()
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)
        if threading.current_thread() is not self._thread:
            self._thread.join()

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    # ------------------------------------------------------------ the watchers' side

    async def next_after(self, seq: int, timeout: float = 1.0) -> tuple[int, bytes] | None:
        """The newest message once it is newer than `seq`: (its number, its bytes); None after
        `timeout` seconds without one, or once the broadcast is closed."""
        loop, event = asyncio.get_running_loop(), asyncio.Event()
        with self._lock:
            if self._closed:
                return None
            if self._seq > seq:
                return self._seq, self._message
            self._waiters.add((loop, event))
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard((loop, event))
        with self._lock:
            return (self._seq, self._message) if self._seq > seq and not self._closed else None

    # ------------------------------------------------------------ the encoder's thread

    def _encode_frames(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                offered, self._offered = self._offered, None
                if self._closed:
                    return
            if offered is not None:
                self._publish(message(*offered))

    def _publish(self, data: bytes) -> None:
        with self._lock:
            self._seq += 1
            self._message = data
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)


def message(pictures: Sequence[torch.Tensor], caption: dict) -> bytes:
    """The caption and the pictures side by side as one JPEG, in one message (see the module)."""
    from torchvision.io import encode_jpeg

    jpeg = encode_jpeg(side_by_side(pictures), quality=QUALITY)
    text = json.dumps(caption).encode("utf-8")
    return struct.pack(">I", len(text)) + text + jpeg.cpu().numpy().tobytes()


def side_by_side(pictures: Sequence[torch.Tensor]) -> torch.Tensor:
    """(3, H, W) pictures in a row with a white gap between them, on their own device."""
    if len(pictures) == 1:
        return pictures[0].contiguous()
    first = pictures[0]
    gap = torch.full((3, first.shape[1], GAP), 255, dtype=torch.uint8, device=first.device)
    return torch.cat([part for picture in pictures for part in (picture, gap)][:-1], dim=2)
