"""Retry and polling policies: plain frozen dataclasses, checked when made."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_WAIT_TIMEOUT", "PollPolicy", "RetryPolicy"]

#: How long ``wait``, ``stop_and_wait`` and ``stop_many`` wait for a final state
#: unless told otherwise. A stop takes Zuora seconds to a few minutes; a wait
#: that outlives this is more likely stuck than slow.
DEFAULT_WAIT_TIMEOUT = 600.0


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@dataclass(frozen=True)
class RetryPolicy:
    """How the session layer retries one call.

    Only failures that are safe and worth retrying are retried (connection
    errors, timeouts, 429, 500, 502, 503, 504, and Zuora categories 50, 61, 70
    and 99; category 60 at most once). Delays use full jitter:
    ``uniform(0, min(max_backoff, initial_backoff * 2 ** retry))``, or the
    server's Retry-After when it sends one, capped at ``max_retry_after``.
    No sleep is started that would end after ``deadline`` seconds from the
    first attempt. ``RetryPolicy(max_attempts=1)`` turns retrying off.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 20.0
    deadline: float = 120.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        _require(
            isinstance(self.max_attempts, int) and self.max_attempts >= 1,
            f"max_attempts must be a whole number of at least 1, "
            f"not {self.max_attempts!r}",
        )
        for name in ("initial_backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            _require(
                _finite(value) and value >= 0,
                f"{name} must be a finite number of seconds >= 0, not {value!r}",
            )
        _require(
            _finite(self.deadline) and self.deadline > 0,
            f"deadline must be a finite number of seconds > 0, not {self.deadline!r}",
        )
        _require(
            self.max_backoff >= self.initial_backoff,
            f"max_backoff ({self.max_backoff!r}) must not be less than "
            f"initial_backoff ({self.initial_backoff!r})",
        )


@dataclass(frozen=True)
class PollPolicy:
    """How ``wait`` polls a mass action for its final state.

    ``wait`` looks at once; after a stop, the first poll comes
    ``initial_interval`` seconds later. Each interval is ``multiplier`` times
    the one before, up to ``max_interval``, and moved at random by up to
    ``jitter`` (a fraction) either way so that many waiters do not poll in
    step. When a poll fails with a Retry-After, the next one waits at least
    that long.
    """

    initial_interval: float = 1.0
    multiplier: float = 1.5
    max_interval: float = 15.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        _require(
            _finite(self.initial_interval) and self.initial_interval > 0,
            f"initial_interval must be a finite number of seconds > 0, "
            f"not {self.initial_interval!r}",
        )
        _require(
            _finite(self.multiplier) and self.multiplier >= 1,
            f"multiplier must be a finite number >= 1, not {self.multiplier!r}",
        )
        _require(
            _finite(self.max_interval) and self.max_interval >= self.initial_interval,
            f"max_interval must be a finite number of seconds >= initial_interval "
            f"({self.initial_interval!r}), not {self.max_interval!r}",
        )
        _require(
            _finite(self.jitter) and 0 <= self.jitter < 1,
            f"jitter must be a fraction from 0 up to (not including) 1, "
            f"not {self.jitter!r}",
        )
