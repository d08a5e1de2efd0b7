"""A finished render as the Render and Gallery tabs show it: the loop, its downloads, its motion."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.dream.run import GIF, MP4, ZIP, RunFolder
from ui.dream.plots import motion_figure
from ui.routes import STAGE, run_file_url

# The links look like the page's buttons (and wrap on a phone).
DOWNLOAD_STYLE = """<style>
.giro-downloads {display: flex; flex-wrap: wrap; gap: 0.5rem;}
.giro-download {padding: 0.35rem 0.9rem; border: 1px solid rgba(31, 27, 36, 0.2); border-radius: 0.5rem;
  color: inherit; text-decoration: none; background: white;}
.giro-download:hover {border-color: #e4007c; color: #e4007c;}
</style>"""


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
    # Links to the server's own route, which streams each file from disk when clicked: download
    # buttons held a file in memory for as long as the tab stayed open (a 200 MB zip each click).
    downloads = [("GIF", GIF), ("MP4", MP4), ("Frames (.zip)", ZIP), ("Stage (.toml)", STAGE)]
    missing = [name for _, name in downloads if name in (GIF, MP4) and not (run_dir / name).is_file()]
    if missing:  # removed by hand, or a run made before renders wrote them
        st.caption(f"Not in this run's folder: {', '.join(missing)}.")
    links = [f'<a class="giro-download" href="{run_file_url(run_dir, name)}" download>{label}</a>'
             for label, name in downloads if name not in missing]
    st.html(f"<div class='giro-downloads'>{''.join(links)}</div>{DOWNLOAD_STYLE}")
    if manifest.step_distances:
        st.plotly_chart(motion_figure(manifest.step_distances, manifest.figures or {"seam": manifest.seam}),
                        width="stretch", key=f"motion_{key}")
