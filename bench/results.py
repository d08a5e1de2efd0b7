"""bench/RESULTS.md: one section per benchmark, replaced whole each time that benchmark runs."""

from __future__ import annotations

import platform
import re
import time
from importlib import metadata
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by the benchmarks in `bench/` (`make bench`); do not edit by hand.\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    versions = ", ".join(
        f"{p} {_version(p)}" for p in ("torch", "diffusers", "transformers", "fastai")
    )
    return (
        f"{time.strftime('%Y-%m-%d')}; {cpu}, {torch.get_num_threads()} torch threads; {gpu}; "
        f"Python {platform.python_version()}; {versions}"
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # a GPU machine carries only what the benchmark needs
        return "absent"


def write_section(name: str, body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    section = f"<!-- {name} -->\n{body.strip()}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else f"{text.rstrip()}\n\n{section}\n"
    RESULTS.write_text(text)
