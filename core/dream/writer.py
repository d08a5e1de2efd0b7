"""The frames' way to disk: a background thread writes each frame's PNG and the manifest, in
order and atomically, so the model never waits for zlib or fsync.

A run that starts at frame 0 also streams its MP4 and measures its motion as the frames pass;
a resumed run makes both from the PNGs at the end (`core.dream.render`). A preview keeps no
PNGs: it is watched once, never resumed or downloaded.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
import torch

from core.device import one_core_for_this_thread
from core.dream.run import MP4, Manifest, RunFolder
from core.dream.figures import LoopFigures
from core.dream.video import Mp4Writer

_DONE = None
BACKLOG = 8  # frames waiting at most: bounded memory if the disk is slower than the model


class FrameWriter:
    def __init__(self, run: RunFolder, manifest: Manifest, fps: int, figures: LoopFigures | None,
                 keep_frames: bool = True):
        """`figures`: measure the frames as they pass and stream the MP4 (a run from frame 0)."""
        self.run, self.manifest, self.keep_frames = run, manifest, keep_frames
        self.figures = figures
        self.video = Mp4Writer(run.path / MP4, fps, quick=not keep_frames) if figures is not None else None
        self._frames: queue.Queue = queue.Queue(BACKLOG)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="frame-writer", daemon=True)
        self._thread.start()

    def put(self, index: int, frame: np.ndarray, seconds: float, moved: torch.Tensor | None = None) -> Path:
        """Queue frame `index` ((H, W, 3) uint8); its PNG path, written shortly after. `moved`: the
        frame before it moved by the camera, if the caller has it (see `LoopFigures.add`)."""
        self._raise()
        self._frames.put((index, frame, seconds, moved))
        return self.run.frame_path(index)

    def close(self) -> None:
        """Wait for every queued frame to be on disk, with the manifest saying so."""
        self._stop()
        self._raise()

    def finish_video(self) -> Path | None:
        """The streamed MP4, closed and put in place; None if this run did not stream."""
        if self.video is None:
            return None
        self.figures.close()
        return self.video.finish()

    def abandon(self) -> None:
        """Stop after the queued frames, keeping no part of the MP4 (a cancel, an error)."""
        self._stop()
        if self.video is not None:
            self.video.discard()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._frames.put(_DONE)
            self._thread.join()

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
            try:
                if self._error is None:
                    for item in batch:
                        if item is not _DONE:
                            self._write(*item)
                    if self.keep_frames:  # what a resume reads; once per batch, not per frame
                        self.run.write_manifest(self.manifest)
            except BaseException as error:  # told to the render at its next frame
                self._error = error
            if batch[-1] is _DONE:
                return

    def _write(self, index: int, frame: np.ndarray, seconds: float, moved: torch.Tensor | None) -> None:
        # A resumed block redraws frames already on disk: those stay as they are.
        if not (self.keep_frames and index < self.manifest.frames_done):
            if self.keep_frames:
                self.run.save_frame(index, frame)
            self.manifest.frame_seconds[index] = round(seconds, 4)
            self.manifest.frames_done = index + 1
        if self.video is not None:
            self.video.append(frame)
            self.figures.add(frame, moved)
