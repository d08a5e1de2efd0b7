"""How long a render will take here: measured, not guessed, from finished renders on this server.

A render's time is almost all UNet passes (the VAE and the frame loop ride along), so earlier
renders of the same model, VAE, device and frame size give seconds per UNet pass, and a new
stage costs its own number of passes. Frame 0 is left out of the measure: it is the warm-up.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from core.dream.plan import make_plan
from core.dream.run import Manifest, list_runs
from core.dream.stage import Stage, stage_from_dict
from core.errors import GiroError

RECENT = 5  # the newest matching renders are the ones that describe this machine now


@dataclass(frozen=True)
class Estimate:
    seconds: float
    renders: int  # how many finished renders it is measured from


def unet_passes(stage: Stage) -> int:
    """UNet evaluations after frame 0: denoising steps of every diffused frame, twice with guidance."""
    # diffusers guides (a batch of two) only above guidance 1
    return sum(max(1, p.passes) * (2 if p.guidance > 1 else 1) for p in make_plan(stage)[1:] if p.diffused)


def estimate(stage: Stage, device: str, runs_dir: Path) -> Estimate | None:
    """The expected seconds for `stage` on `device`, or None with nothing comparable measured yet."""
    rates = []
    for _, manifest in list_runs(runs_dir):
        if _comparable(manifest, stage, device):
            rate = _seconds_per_pass(manifest)
            if rate is not None:
                rates.append(rate)
        if len(rates) == RECENT:
            break
    if not rates:
        return None
    return Estimate(statistics.median(rates) * unet_passes(stage), len(rates))


def _comparable(manifest: Manifest, stage: Stage, device: str) -> bool:
    r, then = stage.render, manifest.stage.get("render", {})
    return (manifest.complete and not manifest.model.get("preview")
            and manifest.model.get("id") == stage.model() and manifest.model.get("device") == device
            and manifest.model.get("vae", "auto") == r.vae
            and (then.get("width"), then.get("height")) == (r.width, r.height))


def _seconds_per_pass(manifest: Manifest) -> float | None:
    # Its start image may be gone; the passes do not depend on it.
    then = {**manifest.stage, "render": {**manifest.stage.get("render", {}), "first_image": ""}}
    try:
        passes = unet_passes(stage_from_dict(then))
    except GiroError:  # a stage from an older version that today's checks refuse
        return None
    seconds = sum(s for s in manifest.frame_seconds[1:] if s)
    return seconds / passes if passes and seconds else None
