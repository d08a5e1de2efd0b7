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
    if (run_dir / MP4).is_file():
        # The gallery shows its loops smaller; that also keeps Streamlit's element ids apart.
        st.video(str(run_dir / MP4), loop=True, autoplay=True, muted=True,
                 width="stretch" if where == "render" else 480)
    # Each file is read when its button is clicked, not on every rerun: a gallery of twelve renders
    # held their GIFs, MP4s and zips in memory on every run (672 MB -> 1,730 MB with four big ones).
    total = manifest.frames_total
    downloads = [  # label, the file it needs (None: made on demand), reader, name, type
        ("GIF", run_dir / GIF, (run_dir / GIF).read_bytes, f"{run_dir.name}.gif", "image/gif"),
        ("MP4", run_dir / MP4, (run_dir / MP4).read_bytes, f"{run_dir.name}.mp4", "video/mp4"),
        ("Frames (.zip)", None, lambda: run.frames_zip(total).read_bytes(), f"{run_dir.name}-frames.zip",
         "application/zip"),
        ("Stage (.toml)", run_dir / "stage.toml", (run_dir / "stage.toml").read_bytes, f"{run_dir.name}.toml",
         "application/toml"),
    ]
    missing = [path.name for _, path, *_ in downloads if path is not None and not path.is_file()]
    if missing:  # removed by hand, or a run made before renders wrote them
        st.caption(f"Not in this run's folder: {', '.join(missing)}.")
    present = [d for d in downloads if d[1] is None or d[1].name not in missing]
    for column, (label, _, read, name, mime) in zip(st.columns(len(present)), present):
        column.download_button(label, read, name, mime, key=f"{label}_{key}")
    if manifest.step_distances:
        st.plotly_chart(motion_figure(manifest.step_distances, manifest.figures or {"seam": manifest.seam}),
                        width="stretch", key=f"motion_{key}")
