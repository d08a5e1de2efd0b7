"""Which torch device and dtype to run on: CUDA, Apple MPS or CPU, overridable with `GIRO_DEVICE`."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from core.errors import DeviceError

_KNOWN = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(wanted: str | None = None, asked_by: str = "GIRO_DEVICE") -> str:
    """`wanted` (default: `GIRO_DEVICE`) if set and available, else the fastest device present.

    `asked_by` names where the wish came from, for the one-line error when it cannot be met.
    """
    wanted = (os.environ.get("GIRO_DEVICE", "") if wanted is None else wanted).strip().lower()
    if wanted and wanted != "auto":
        kind = wanted.split(":")[0]
        if kind not in _KNOWN:
            raise DeviceError(f"{asked_by}={wanted!r} is not a device: use cuda, mps or cpu")
        if kind == "cuda" and not torch.cuda.is_available():
            raise DeviceError(f"{asked_by} asks for cuda, but no CUDA GPU is visible to torch")
        if kind == "mps" and not _mps_available():
            raise DeviceError(f"{asked_by} asks for mps, but Apple's MPS is not available")
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str) -> torch.dtype:
    """Half precision where the hardware does it fast and well (CUDA); full precision elsewhere."""
    # fp16 on MPS produces black frames with some Stable Diffusion versions; fp32 is the safe choice.
    return torch.float16 if device.startswith("cuda") else torch.float32


@dataclass(frozen=True)
class DeviceInfo:
    device: str
    dtype: str
    name: str
    memory_gb: float | None


def describe_device() -> DeviceInfo:
    """What the app runs on, for the status panel."""
    device = pick_device()
    dtype = str(pick_dtype(device)).removeprefix("torch.")
    if device.startswith("cuda"):
        index = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(index)
        return DeviceInfo(device, dtype, props.name, props.total_memory / 2**30)
    if device == "mps":
        return DeviceInfo(device, dtype, "Apple GPU (MPS)", None)
    return DeviceInfo(device, dtype, f"CPU, {torch.get_num_threads()} threads", None)
