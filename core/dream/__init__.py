"""Dream a Stage: a zooming img2img loop through a list of prompts that returns to its start."""

from core.dream.plan import FramePlan, make_plan
from core.dream.render import Progress, render
from core.dream.stage import Segment, RenderSettings, Stage, load_stage, parse_stage, stage_to_toml

__all__ = [
    "FramePlan", "Progress", "RenderSettings", "Segment", "Stage",
    "load_stage", "make_plan", "parse_stage", "render", "stage_to_toml",
]
