"""Which torch device and dtype to run on: CUDA, Apple MPS or CPU, overridable with `GIRO_DEVICE`."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


@contextmanager
def one_core_for_this_thread() -> Iterator[bool]:
    """Within the block, the calling thread's tensor ops run on one core; every other thread's run as
    before, and this one's again after it. Yields whether it took (False where torch does not run
    on OpenMP's GNU runtime: nothing changes there).

    For work made of many small ops (a motion preview's 256 px frames): a second thread per op
    gains nothing there and, when the cores are busy (the video encoder, the page, other
    sessions), each op waits for it. torch.set_num_threads would not do: it sets the count of
    every thread started afterwards too (each Streamlit rerun starts one). OpenMP's own
    omp_set_num_threads sets the calling thread's alone. Its results may differ from a
    multi-threaded run's in the last bits (sums split differently): nothing that must match a
    render bit for bit runs in it.
    """
    count = torch.get_num_threads()  # also ATen's first use in this thread, which would undo the change
    runtime = _openmp()
    if runtime is None:
        yield False
        return
    runtime.omp_set_num_threads(1)
    try:
        yield torch.get_num_threads() == 1
    finally:
        runtime.omp_set_num_threads(count)


def _openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime torch's wheel carries (already loaded with torch), else the system's."""
    for name in (str(Path(torch.__file__).parent / "lib" / "libgomp.so.1"), "libgomp.so.1"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None
