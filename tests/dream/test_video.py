"""core.dream.video: GIF and MP4 that browsers and phones play."""

from __future__ import annotations

import subprocess

import imageio.v2 as imageio
import imageio_ffmpeg
import numpy as np
from PIL import Image

from core.dream.video import write_gif, write_mp4


def frames(tmp_path, count=9):
    paths = []
    for i in range(count):
        pixels = np.zeros((48, 64, 3), np.uint8)
        pixels[:, : 4 + 6 * i] = (200, 30 + 20 * i, 90)
        path = tmp_path / f"{i:05d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def test_gif_loops_with_every_frame(tmp_path):
    gif = write_gif(frames(tmp_path), tmp_path / "loop.gif", fps=10)
    with Image.open(gif) as image:
        assert image.n_frames == 9 and image.info["loop"] == 0 and image.info["duration"] == 100
    assert not list(tmp_path.glob(".*part*"))


def test_a_long_gif_is_scaled_to_fit_its_memory(tmp_path, monkeypatch):
    """Pillow holds a GIF's frames until it writes them: a stage of 2,000 frames at 2048 px held
    16.8 GB. Past GIF_PIXELS the GIF is smaller, every frame still there."""
    import core.dream.video as video

    monkeypatch.setattr(video, "GIF_PIXELS", 9 * 48 * 64 // 4)  # room for the frames at half the size
    gif = write_gif(frames(tmp_path), tmp_path / "loop.gif", fps=10)
    with Image.open(gif) as image:
        assert image.size == (32, 24) and image.n_frames == 9


def test_mp4_is_h264_yuv420p_with_every_frame(tmp_path):
    mp4 = write_mp4(frames(tmp_path), tmp_path / "loop.mp4", fps=10)
    reader = imageio.get_reader(mp4)
    assert reader.count_frames() == 9
    reader.close()
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(mp4)],
                           capture_output=True, text=True).stderr
    assert "h264" in probe and "yuv420p" in probe and "10 fps" in probe
    assert not list(tmp_path.glob(".*part*"))
