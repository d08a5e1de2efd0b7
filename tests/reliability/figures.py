"""Figures the reliability tests measure, kept as JSON beside them for docs/RELIABILITY.md."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "figures"


def record(name: str, figures: dict) -> None:
    """Write `figures` as figures/NAME.json, with when and where they were measured."""
    FOLDER.mkdir(exist_ok=True)
    stamp = {"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"}
    (FOLDER / f"{name}.json").write_text(json.dumps({**stamp, **figures}, indent=1) + "\n")

