"""What the GPU itself spends: kernel time over a stretch of frames, and graphs compiled.

A frame's wall time is the GPU's kernels plus whatever the host does that the GPU waits for; the
split shows which one bounds the frame rate. torch.profiler's CUDA activity adds up the kernels'
own durations (it slows the host a little, so the frames it watches are not the ones timed).
"""

from __future__ import annotations

import torch


class KernelTime:
    """`with KernelTime(device) as kernels: ...`, then `kernels.seconds`: the GPU kernels' time
    inside the block; None off CUDA or where the profiler cannot see the GPU."""

    def __init__(self, device: str):
        self.device, self.seconds, self._profile = device, None, None

    def __enter__(self) -> KernelTime:
        if self.device.startswith("cuda"):
            from torch.profiler import ProfilerActivity, profile

            self._profile = profile(activities=[ProfilerActivity.CUDA])
            self._profile.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._profile is None:
            return
        torch.cuda.synchronize()
        self._profile.stop()
        total = sum(event.self_device_time_total for event in self._profile.key_averages())
        self.seconds = total / 1e6 if total else None


def graphs_compiled() -> int:
    """Graphs torch.compile has made so far in this process: a count that grows after the warm-up
    is a recompile (TORCH_LOGS=recompiles, set by bench/gpu.sh, says why)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])
