"""core.hub: the local copy, else a download only when the Hub answers a quick probe."""

from __future__ import annotations

import pytest

from core import hub
from core.errors import ModelError


def not_cached(local_only: bool) -> str:
    raise FileNotFoundError("not in the local Hub cache")


def test_a_failed_probe_is_remembered(monkeypatch):
    """A page reruns on every click: it must not wait for a dead Hub each time."""
    from huggingface_hub import HfApi

    monkeypatch.delenv("HF_HUB_OFFLINE")
    probes = []

    def dead_hub(self, model, timeout):
        probes.append(timeout)
        raise TimeoutError("no answer")

    monkeypatch.setattr(HfApi, "model_info", dead_hub)
    monkeypatch.setattr(hub, "_failed_probes", {})
    for _ in range(3):
        with pytest.raises(ModelError, match="^someone/model is not on this machine and the Hub cannot be reached"):
            hub.local_or_download("someone/model", not_cached, "diffusers", "GIRO_DREAM_MODEL")
    assert probes == [hub.PROBE_SECONDS]
    monkeypatch.setattr(hub, "REPROBE_SECONDS", 0.0)  # the time is up: ask again
    with pytest.raises(ModelError):
        hub.local_or_download("someone/model", not_cached, "diffusers", "GIRO_DREAM_MODEL")
    assert len(probes) == 2


def test_paths_and_hub_ids():
    assert hub.is_hub_id("org/name")
    assert not any(hub.is_hub_id(m) for m in ("/models/sd", "./sd", "~/sd", "sd", "a/b/c"))
    with pytest.raises(ModelError, match="neither a folder on this machine nor a Hub id"):
        hub.local_or_download("/no/such/folder", not_cached, "diffusers", "GIRO_DREAM_MODEL")
