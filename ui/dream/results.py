"""A finished render as the Render and Gallery tabs show it: the loop, its downloads, its motion."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.dream.run import GIF, MP4, RunFolder
from ui.dream.plots import motion_figure


def results_ui(run_dir: Path, where: str) -> None:
    """The loop playing, its downloads and its motion plot; `where` keeps the widgets' keys apart."""
    run = RunFolder(run_dir)
    manifest = run.manifest()
    if manifest is None or not manifest.complete:
        return
    key = f"{where}_{run_dir.name}"
    # The gallery shows its loops smaller; that also keeps Streamlit's element ids apart.
    st.video(str(run_dir / MP4), loop=True, autoplay=True, muted=True,
             width="stretch" if where == "render" else 480)
    a, b, c, d = st.columns(4)
    a.download_button("GIF", (run_dir / GIF).read_bytes(), f"{run_dir.name}.gif", "image/gif",
                      key=f"gif_{key}")
    b.download_button("MP4", (run_dir / MP4).read_bytes(), f"{run_dir.name}.mp4", "video/mp4",
                      key=f"mp4_{key}")
    c.download_button("Frames (.zip)", run.frames_zip(manifest.frames_total).read_bytes(),
                      f"{run_dir.name}-frames.zip", "application/zip", key=f"zip_{key}")
    d.download_button("Stage (.toml)", (run_dir / "stage.toml").read_bytes(), f"{run_dir.name}.toml",
                      "application/toml", key=f"toml_{key}")
    if manifest.step_distances:
        st.plotly_chart(motion_figure(manifest.step_distances, manifest.seam),
                        width="stretch", key=f"motion_{key}")
