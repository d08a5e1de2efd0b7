"""The frames' way to disk, off the loop's path: a background thread takes each frame as the loop
hands it over, feeds the MP4 and the loop figures in order, and has its PNG encoded and synced
in a small pool; the frames are then put in place in order, and the manifest is written once a
second at most (a resume counts the frames on disk). The loop waits only when BACKLOG frames
are still on their way.

A run that starts at frame 0 also streams its MP4 and measures its motion as the frames pass;
a resumed run makes both from the PNGs at the end (`core.dream.render`). A preview keeps no
PNGs: it is watched once, never resumed or downloaded.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import torch

from core.device import one_core_for_this_thread
from core.dream.figures import LoopFigures
from core.dream.run import MP4, Manifest, RunFolder
from core.dream.step import HostFrame
from core.dream.video import Mp4Writer

_DONE = None
BACKLOG = 8  # frames on their way at most: bounded memory if the disk is slower than the model
ENCODERS = 2  # PNGs encoded at once (zlib and fsync let go of the GIL)
MANIFEST_SECONDS = 1.0  # the manifest is written at most this often while frames come, and at the end


class FrameWriter:
    def __init__(self, run: RunFolder, manifest: Manifest, fps: int, figures: LoopFigures | None,
                 keep_frames: bool = True):
        """`figures`: measure the frames as they pass and stream the MP4 (a run from frame 0)."""
        self.run, self.manifest, self.keep_frames = run, manifest, keep_frames
        self.figures = figures
        self.video = Mp4Writer(run.path / MP4, fps, quick=not keep_frames) if figures is not None else None
        self._frames: queue.Queue = queue.Queue(BACKLOG)
        self._encoders = ThreadPoolExecutor(ENCODERS, thread_name_prefix="png") if keep_frames else None
        self._error: BaseException | None = None
        self._next_manifest = 0.0
        self._thread = threading.Thread(target=self._work, name="frame-writer", daemon=True)
        self._thread.start()

    def put(self, index: int, frame: torch.Tensor, host: HostFrame, seconds: float,
            moved: torch.Tensor | None = None) -> Path:
        """Hand over frame `index` ((3, H, W) uint8 on the loop's device, and its copy on the way to
        the host); its PNG path, written shortly after. `moved`: the frame before it moved by the
        camera, if the caller has it (see `LoopFigures.add`)."""
        self._raise()
        self._frames.put((index, frame, host, seconds, moved))
        return self.run.frame_path(index)

    def close(self) -> None:
        """Wait for every frame handed over to be on disk, with the manifest saying so."""
        self._stop()
        self._raise()

    def finish_video(self) -> Path | None:
        """The streamed MP4, closed and put in place; None if this run did not stream."""
        if self.video is None:
            return None
        self.figures.close()
        return self.video.finish()

    def abandon(self) -> None:
        """Stop after the frames handed over, keeping no part of the MP4 (a cancel, an error)."""
        self._stop()
        if self.video is not None:
            self.video.discard()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._frames.put(_DONE)
            self._thread.join()
        if self._encoders is not None:
            self._encoders.shutdown()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        with one_core_for_this_thread():  # background work: the model's (or the preview's) cores stay its own
            self._drain()

    def _drain(self) -> None:
        while True:
            batch = [self._frames.get()]
            while batch[-1] is not _DONE and not self._frames.empty():
                batch.append(self._frames.get())
            frames = [item for item in batch if item is not _DONE]
            if self._error is None and frames:
                self._write(frames)
            last = batch[-1] is _DONE
            if self.keep_frames and (last or self._error is not None or time.monotonic() >= self._next_manifest):
                self._save_manifest()
            if last:
                return

    def _save_manifest(self) -> None:
        """What a resume reads; it counts the frames on disk itself, so this may lag behind them."""
        self._next_manifest = time.monotonic() + MANIFEST_SECONDS
        try:
            self.run.write_manifest(self.manifest)
        except BaseException as error:
            self._error = self._error or error

    def _write(self, frames: list[tuple]) -> None:
        """A batch: the video and the figures in order, the PNGs at once, then each put in place
        in order."""
        pngs: list[tuple[int, float, Future | None, bool]] = []
        try:
            for index, frame, host, seconds, moved in frames:
                # A resumed block redraws frames already on disk: those stay as they are.
                rewrite = self.keep_frames and index < self.manifest.frames_done
                png = None if not self.keep_frames or rewrite else self._encoders.submit(
                    self.run.write_frame, index, host.array)
                pngs.append((index, seconds, png, rewrite))
                if self.video is not None:
                    self.video.append(host.array)
                    self.figures.add(frame, moved)
            for index, seconds, png, rewrite in pngs:
                if rewrite:
                    continue
                if png is not None:
                    self.run.place_frame(png.result(), index)
                self.manifest.frame_seconds[index] = round(seconds, 4)
                self.manifest.frames_done = index + 1
        except BaseException as error:  # told to the render at its next frame
            self._error = error
            for _, _, png, _ in pngs:  # no frame after the failed one is put in place
                if png is not None and png.exception() is None and png.result().exists():
                    png.result().unlink(missing_ok=True)
