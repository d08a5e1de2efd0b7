"""GIF and MP4 out of a run's frames, written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from core.atomic import atomic_path, commit, temporary_path


# Pillow holds every frame of a GIF until it is written, a byte a pixel: the GIF is scaled down
# to keep all its frames within this many pixels (the MP4 and the PNGs keep the full size).
# 275 frames at 512 px fit; 2,000 frames at 2048 px would otherwise hold 16.8 GB.
GIF_PIXELS = 150_000_000


def write_gif(frame_paths: Sequence[Path], path: Path, fps: int) -> Path:
    """A looping GIF, one palette per frame, within GIF_PIXELS.

    Fast octree quantisation: Pillow's default (median cut) took 0.32 s per 256 px frame, 77 s of a
    275-frame stage, for a mean error of 6.9 grey levels against 8.6 here in 0.9 ms.
    """
    with Image.open(frame_paths[0]) as first:
        width, height = first.size
    scale = min(1.0, (GIF_PIXELS / (len(frame_paths) * width * height)) ** 0.5)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    frames = [_gif_frame(p, size) for p in frame_paths]
    with atomic_path(path) as temporary:
        frames[0].save(
            temporary, format="GIF", save_all=True, append_images=frames[1:],
            duration=round(1000 / fps), loop=0, disposal=1, optimize=False,
        )
    return path


def _gif_frame(frame_path: Path, size: tuple[int, int]) -> Image.Image:
    with Image.open(frame_path) as frame:
        frame = frame.convert("RGB")
        if frame.size != size:
            frame = frame.resize(size, Image.Resampling.LANCZOS)
        return frame.quantize(256, method=Image.Quantize.FASTOCTREE)


class Mp4Writer:
    """H.264 in yuv420p with the index up front (plays in every browser and on phones), fed one
    frame at a time. It is written under a temporary name: `finish` puts it in place whole,
    `discard` leaves nothing."""

    def __init__(self, path: Path, fps: int, quick: bool = False):
        self.path, self._temporary = Path(path), temporary_path(path)
        # A preview is watched once, on the server's cores while its frames are drawn, maybe on a
        # phone: x264's "ultrafast" at crf 20 (quality 6) encodes the preview of giro_stage.toml
        # (275 frames, 256 px) on 0.2 s of CPU into 3.9 MB. At crf 25 (2.6 MB) its coding noise
        # hid the small steps near the vanishing point, and the seam showed there at cadence 8
        # (1.38 on the decoded frames, 0.56 on the drawn ones; now: bench/RESULTS.md, dream-loop).
        speed, quality = (["-preset", "ultrafast"], 6) if quick else ([], 8)
        self._writer = imageio.get_writer(
            self._temporary, format="FFMPEG", fps=fps, codec="libx264", pixelformat="yuv420p",
            quality=quality, macro_block_size=8, ffmpeg_params=["-movflags", "+faststart", *speed],
            ffmpeg_log_level="error",
        )

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)

    def finish(self) -> Path:
        self._writer.close()
        commit(self._temporary, self.path)
        return self.path

    def discard(self) -> None:
        try:
            self._writer.close()
        finally:
            self._temporary.unlink(missing_ok=True)


def write_mp4(frame_paths: Sequence[Path], path: Path, fps: int) -> Path:
    """The MP4 of frames on disk, one frame in memory at a time."""
    writer = Mp4Writer(path, fps)
    try:
        for frame_path in frame_paths:
            writer.append(np.asarray(Image.open(frame_path).convert("RGB")))
    except BaseException:
        writer.discard()
        raise
    return writer.finish()
