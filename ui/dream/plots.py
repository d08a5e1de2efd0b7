"""Plotly figures for Dream a Stage: the plan before a render, the motion after it."""

from __future__ import annotations

import plotly.graph_objects as go

from core.dream.plan import FramePlan
from ui.common import plot_text

PINK, BLUE, GREEN = "#e4007c", "#1f6fb2", "#2e8b57"
SHARE = "frame 0's share"
MAX_LABELS = 60  # segment prompts written on the plot; beyond this they would overlap


def _short(text: str, length: int = 28) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def schedule_figure(plans: list[FramePlan]) -> go.Figure:
    """Frame 0's share of every frame (what the viewer sees of the loop closing), with segment
    boundaries and prompts; and per-frame strength and guidance where segments override them."""
    frames = [p.index for p in plans]
    figure = go.Figure()
    figure.add_scatter(
        x=frames, y=[p.frame0_share for p in plans], name=SHARE,
        line={"color": PINK, "width": 3},
        customdata=[(plot_text(_short(p.prompt)), p.loop_weight) for p in plans],
        hovertemplate="frame %{x}: %{customdata[0]}<br>frame 0's share %{y:.3f} "
                      "(this step mixes in %{customdata[1]:.3f})<extra></extra>",
    )
    figure.add_scatter(
        x=frames, y=[p.strength for p in plans], name="strength", line={"color": BLUE, "dash": "dot"},
        hovertemplate="frame %{x}<br>strength %{y:.2f}<extra></extra>",
    )
    figure.add_scatter(
        x=frames, y=[p.guidance for p in plans], name="guidance", yaxis="y2",
        line={"color": GREEN, "dash": "dash"}, hovertemplate="frame %{x}<br>guidance %{y:.1f}<extra></extra>",
    )
    if any(not p.diffused for p in plans):  # cadence: which frames the model draws
        diffused = [p for p in plans if p.diffused]
        figure.add_scatter(
            x=[p.index for p in diffused], y=[0.0] * len(diffused), name="diffused frame", mode="markers",
            marker={"color": "#333", "symbol": "triangle-up", "size": 7},
            hovertemplate="frame %{x}: diffused<extra></extra>",
        )
    # Shapes and labels are set once: added one by one, plotly re-validates the layout each time,
    # which took 130 s for 400 segments.
    starts = [p for i, p in enumerate(plans) if i == 0 or p.segment != plans[i - 1].segment]
    lines = [dict(type="line", x0=p.index, x1=p.index, y0=0, y1=1, xref="x", yref="paper",
                  line={"color": "#999", "width": 1}) for p in starts]
    labels = [dict(x=p.index, y=1.0, yref="paper", text=plot_text(_short(p.prompt)), showarrow=False,
                   xanchor="left", yanchor="top", textangle=-90, font={"size": 10, "color": "#555"})
              for p in starts] if len(starts) <= MAX_LABELS else []
    figure.update_layout(shapes=lines, annotations=labels)
    figure.update_layout(
        height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "frame"}, yaxis={"title": "weight, strength", "range": [0, 1.05]},
        yaxis2={"title": "guidance", "overlaying": "y", "side": "right",
                "range": [0, max(15.0, *(p.guidance for p in plans)) * 1.05]},
        legend={"orientation": "h", "y": 1.12}, hovermode="x unified",
    )
    return figure


def motion_figure(distances: list[float], seam: float | None) -> go.Figure:
    """Frame-to-frame change after a render; the last bar is the jump from the last frame to the first."""
    steps = list(range(1, len(distances)))
    figure = go.Figure()
    figure.add_bar(x=steps, y=distances[:-1], name="change from the previous frame", marker_color=BLUE)
    figure.add_bar(x=[len(distances)], y=distances[-1:], name="seam: last frame to first", marker_color=PINK)
    title = "seam figure: n/a" if seam is None else f"seam figure {seam:.2f} (about 1 = no visible jump)"
    figure.update_layout(
        height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, title=title,
        xaxis={"title": "frame"}, yaxis={"title": "mean |difference|"},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure
