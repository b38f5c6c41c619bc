"""Measurement helpers shared by the benchmark's processes.

Standard library only: the zuora-sdk side imports this module from an
interpreter that may not have aiozuora or aiohttp installed.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Measurement", "emit", "measure", "peak_rss_mb", "rss_mb"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident set size of this process, in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


@dataclass
class Measurement:
    """Wall and process CPU time of one measured block, plus what it counted."""

    wall: float = 0.0
    cpu: float = 0.0
    requests: int = 0
    rss_before_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "requests": self.requests,
            "rss_before_mb": round(self.rss_before_mb, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            **self.extra,
        }


@contextmanager
def measure() -> Iterator[Measurement]:
    """Time the block: wall clock and CPU of the whole process (every thread).

    A collection runs first so that garbage left by the set-up is not charged
    to the block.
    """
    result = Measurement()
    gc.collect()
    result.rss_before_mb = rss_mb()
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    try:
        yield result
    finally:
        result.cpu = time.process_time() - cpu0
        result.wall = time.perf_counter() - wall0


def emit(payload: dict[str, Any]) -> None:
    """Hand a result to the runner: one JSON line, the last line on stdout."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()
