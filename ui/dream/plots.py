"""Plotly figures for Dream a Stage: the plan before a render, the motion after it."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.dream.figures import headline, loop_in_words
from core.dream.plan import FramePlan
from ui.common import plot_text

PINK, BLUE, GREEN = "#e4007c", "#1f6fb2", "#2e8b57"
SHARE = "frame 0's share"
MAX_LABELS = 60  # segment numbers written on the plot; beyond this they would overlap


def _short(text: str, length: int = 28) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def schedule_figure(plans: list[FramePlan], loop_frames: int) -> go.Figure:
    """Three panels: the whole stage (frame 0's share, what the viewer sees of the loop closing,
    and the strength, with segments numbered as in the table); the guidance on its own scale; and
    the loop window magnified, where the share rises, the strength tapers and each step's mix
    (derived from the share) lives."""
    rows = 3 if loop_frames else 2
    figure = make_subplots(
        rows=rows, cols=1, vertical_spacing=0.13,
        row_heights=[0.46, 0.18, 0.36][:rows] if loop_frames else [0.72, 0.28],
        subplot_titles=["The whole stage", "Guidance", f"The loop window: the last {loop_frames} frames"][:rows],
    )
    frames = [p.index for p in plans]
    prompts = [plot_text(_short(p.prompt)) for p in plans]
    figure.add_scatter(
        x=frames, y=[p.frame0_share for p in plans], name=SHARE, line={"color": PINK, "width": 3},
        customdata=[(prompt, p.segment + 1) for prompt, p in zip(prompts, plans)],
        hovertemplate="frame %{x}, segment %{customdata[1]}: %{customdata[0]}<br>"
                      "frame 0's share %{y:.3f}<extra></extra>", row=1, col=1,
    )
    figure.add_scatter(
        x=frames, y=[p.strength for p in plans], name="strength", line={"color": BLUE, "dash": "dot"},
        hovertemplate="frame %{x}: strength %{y:.3f}<extra></extra>", row=1, col=1,
    )
    figure.add_scatter(
        x=frames, y=[p.guidance for p in plans], name="guidance", line={"color": GREEN},
        hovertemplate="frame %{x}: guidance %{y:.1f}<extra></extra>", row=2, col=1,
    )
    if any(not p.diffused for p in plans):  # cadence: which frames the model draws
        diffused = [p for p in plans if p.diffused]
        figure.add_scatter(
            x=[p.index for p in diffused], y=[0.0] * len(diffused), name="diffused frame", mode="markers",
            marker={"color": "#333", "symbol": "triangle-up", "size": 7},
            hovertemplate="frame %{x}: diffused<extra></extra>", row=1, col=1,
        )
    if loop_frames:
        tail = plans[-min(len(plans), loop_frames + 10):]  # the window and a few frames before it
        x = [p.index for p in tail]
        figure.add_scatter(x=x, y=[p.frame0_share for p in tail], name=f"{SHARE} (loop window)",
                           line={"color": PINK, "width": 3}, showlegend=False,
                           hovertemplate="frame %{x}: frame 0's share %{y:.3f}<extra></extra>", row=3, col=1)
        figure.add_scatter(x=x, y=[p.strength for p in tail], name="strength (loop window)",
                           line={"color": BLUE, "dash": "dot"}, showlegend=False,
                           hovertemplate="frame %{x}: strength %{y:.3f}<extra></extra>", row=3, col=1)
        figure.add_scatter(x=x, y=[p.loop_weight for p in tail], name="this step's mix",
                           mode="markers", marker={"color": PINK, "symbol": "circle-open", "size": 6},
                           hovertemplate="frame %{x}: mixes in %{y:.3f} of frame 0<extra></extra>", row=3, col=1)
        figure.add_scatter(x=[len(plans)], y=[1.0], name="frame 0 again", mode="markers",
                           marker={"color": PINK, "size": 10, "symbol": "star"},
                           hovertemplate="frame %{x} = frame 0: the loop closes<extra></extra>", row=3, col=1)
    # Shapes and labels are set once: added one by one, plotly re-validates the layout each time,
    # which took 130 s for 400 segments. Segments are numbered as in the table (the prompt is in
    # the hover): prompts written on the plot overlapped on a phone.
    starts = [p for i, p in enumerate(plans) if i == 0 or p.segment != plans[i - 1].segment]
    lines = [dict(type="line", x0=p.index, x1=p.index, y0=0, y1=1, xref="x", yref="y domain",
                  line={"color": "#999", "width": 1}) for p in starts]
    labels = [dict(x=p.index, y=1.0, xref="x", yref="y domain", text=f"<b>{p.segment + 1}</b>", showarrow=False,
                   xanchor="left", yanchor="top", font={"size": 12, "color": "#555"})
              for p in starts] if len(starts) <= MAX_LABELS else []
    figure.update_layout(shapes=lines, annotations=list(figure.layout.annotations) + labels)
    figure.update_layout(
        height=560 if loop_frames else 400, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.14}, hovermode="x unified",
    )
    figure.update_yaxes(range=[0, 1.05], title_text="share, strength", row=1, col=1)
    figure.update_yaxes(range=[0, max(1.0, *(p.guidance for p in plans)) * 1.15], title_text="scale", row=2, col=1)
    if loop_frames:
        figure.update_yaxes(range=[0, 1.05], row=3, col=1)
        figure.update_xaxes(title_text="frame", row=3, col=1)
    figure.update_xaxes(matches="x", row=2, col=1)
    # The guidance panel right below shares these frames: their numbers there only, where the top
    # panel's "150" sat under the guidance panel's title.
    figure.update_xaxes(showticklabels=False, row=1, col=1)
    return figure


def motion_figure(distances: list[float], figures: dict[str, float | None]) -> go.Figure:
    """Frame-to-frame change after a render; the last bar is the jump from the last frame to the first."""
    steps = list(range(1, len(distances)))
    figure = go.Figure()
    figure.add_bar(x=steps, y=distances[:-1], name="change from the previous frame", marker_color=BLUE)
    figure.add_bar(x=[len(distances)], y=distances[-1:], name="seam: last frame to first", marker_color=PINK)
    figure.update_layout(
        height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, title=figures_line(figures),
        xaxis={"title": "frame"}, yaxis={"title": "mean |difference|"},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def figures_line(figures: dict[str, float | None]) -> str:
    """The loop's figures in one line, in words first, then the seam figure the words go by and the
    rest for the curious (see core.dream.figures); runs from before some had fewer."""
    shown = headline(figures)
    words = loop_in_words(figures)
    if shown is None:
        return words  # unrelated frames, or a run from before the figures
    line = f"{words}: {shown[0]} {shown[1]:.2f}"
    rings = [figures.get(f"seam_moved_ring{n}") for n in range(1, 5)]
    if figures.get("seam_moved") is not None and None not in rings:
        line += f" (rings from the vanishing point out: {', '.join(f'{r:.2f}' for r in rings)})"
    line += ", about 1 is seamless"
    if figures.get("seam_moved") is not None and figures.get("seam") is not None:
        line += f"; raw jump {figures['seam']:.2f}"
        if figures.get("seam_border") is not None and figures.get("seam_centre") is not None:
            line += f" (edges {figures['seam_border']:.2f}, middle {figures['seam_centre']:.2f})"
    if figures.get("flicker") is not None:
        line += f" · flicker {figures['flicker']:.1f} grey levels"
    if figures.get("ghosting") is not None:
        line += f" · ghosting {figures['ghosting']:.2f} (frame {figures['ghosting_frame']})"
    if figures.get("window_jolt") is not None:
        line += f" · window jolt {figures['window_jolt']:.2f} (frame {figures['window_jolt_frame']})"
    if figures.get("window_load") is not None:
        line += f" · window load {figures['window_load']:.2f}"
    return line


def camera_moves(plans: list[FramePlan]) -> bool:
    """Whether the camera does more than zoom steadily about one point: then its path is worth a plot."""
    first = plans[0].camera
    return any(p.camera != first or p.camera.rotate or any(p.camera.pan) for p in plans)


def camera_figure(plans: list[FramePlan]) -> go.Figure:
    """The camera's path frame by frame, as the segments set it and the transitions and the loop
    window ease it: its zoom, turn and drift a frame, and the point it zooms and turns about."""
    figure = make_subplots(rows=2, cols=1, vertical_spacing=0.16, row_heights=[0.6, 0.4],
                           subplot_titles=["The camera's step a frame", "The point it zooms and turns about"])
    frames = [p.index for p in plans]
    traces = [
        ("zoom px", [p.camera.zoom_px for p in plans], PINK, 1, "zoom %{y:.2f} px"),
        ("turn °", [p.camera.rotate for p in plans], BLUE, 1, "turn %{y:.2f}°"),
        ("pan x px", [p.camera.pan[0] for p in plans], GREEN, 1, "pan x %{y:.2f} px"),
        ("pan y px", [p.camera.pan[1] for p in plans], "#8a5a00", 1, "pan y %{y:.2f} px"),
        ("point x", [p.camera.vanishing_point[0] for p in plans], PINK, 2, "point x %{y:.2f}"),
        ("point y", [p.camera.vanishing_point[1] for p in plans], BLUE, 2, "point y %{y:.2f}"),
    ]
    for name, values, colour, row, hover in traces:
        figure.add_scatter(x=frames, y=values, name=name, line={"color": colour, "dash": "dot" if row == 2 else None},
                           hovertemplate=f"frame %{{x}}: {hover}<extra></extra>", row=row, col=1)
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.18}, hovermode="x unified")
    figure.update_yaxes(title_text="a frame", row=1, col=1)
    figure.update_yaxes(range=[0, 1], title_text="of the frame", row=2, col=1)
    figure.update_xaxes(matches="x", row=2, col=1)
    figure.update_xaxes(title_text="frame", row=2, col=1)
    figure.update_xaxes(showticklabels=False, row=1, col=1)  # they sat on the lower panel's title
    return figure
