"""Models from the Hugging Face Hub: the local copy if there is one, else a download only when the
Hub answers a quick probe, so an offline machine gets a clear message in seconds, never a hang."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import ModelError

PROBE_SECONDS = 8.0
REPROBE_SECONDS = 120.0  # after a failed probe, answer at once for this long

_failed_probes: dict[str, float] = {}  # model id -> when its probe failed (time.monotonic)
_probe_lock = threading.Lock()


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def is_hub_id(model: str) -> bool:
    """`org/name`, as opposed to a path on this machine."""
    return not model.startswith((".", "/", "~")) and model.count("/") == 1


def local_or_download(
    model: str, fetch: Callable[[bool], str], what: str, setting: str
) -> str:
    """The local folder for `model`: a folder path, the Hub cache, or a fresh download.

    `fetch(local_only)` returns the folder (diffusers' or huggingface_hub's download call);
    `what` names the model kind and `setting` the environment variable that points elsewhere.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    if not is_hub_id(model):
        raise ModelError(f"{model} is neither a folder on this machine nor a Hub id like org/name")
    try:
        return fetch(True)
    except Exception:  # not in the local Hub cache
        pass
    how = (
        f"fetch it once with `hf download {model}` on a machine with internet, "
        f"or set {setting} to a local {what} folder"
    )
    if offline():
        raise ModelError(f"{model} is not on this machine and HF_HUB_OFFLINE is set: {how}")
    unreachable = f"{model} is not on this machine and the Hub cannot be reached: {how}"
    with _probe_lock:
        failed_at = _failed_probes.get(model)
    if failed_at is not None and time.monotonic() - failed_at < REPROBE_SECONDS:
        raise ModelError(unreachable)  # every rerun of a page would wait for the probe again
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(model, timeout=PROBE_SECONDS)
    except Exception as error:
        with _probe_lock:
            _failed_probes[model] = time.monotonic()
        raise ModelError(unreachable) from error
    try:
        return fetch(False)
    except Exception as error:
        raise ModelError(f"downloading {model} failed ({type(error).__name__}): {how}") from error
