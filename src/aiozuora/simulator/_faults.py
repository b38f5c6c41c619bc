"""Faults on demand: answers that replace, delay or cut off what the simulator
would otherwise send."""

from __future__ import annotations

import functools
import math
import random
import re
from dataclasses import KW_ONLY, dataclass, field
from typing import Literal

__all__ = ["Fault", "FaultBook"]

_BODY_KINDS = ("json", "html", "empty")


@dataclass(eq=False)
class Fault:
    """What the next matching requests get instead of a normal answer.

    - ``status``: the HTTP status to answer with; ``None`` answers normally
      (after ``delay``), or not at all when ``drop`` is set.
    - ``body``: ``"json"`` (the body Zuora sends with that status), ``"html"``,
      ``"empty"``, or any other string, sent as it is.
    - ``code``, ``message``: the Zuora error code (8 digits; a ``str`` is sent
      as a JSON string, an ``int`` as a JSON number) and message of a JSON body.
      ``status=200`` with a code answers ``{"success": false, "reasons": [...]}``.
    - ``retry_after``: seconds sent in a Retry-After header.
    - ``delay``: seconds to wait before answering (or dropping).
    - ``drop``: ``"before"`` closes the connection without applying the
      request; ``"after"`` applies it (a stop lands, an upload creates an
      action) and then closes the connection without an answer.
    - ``method``, ``path``: which requests it hits; ``path`` is a glob such as
      ``"/v1/bulk/*/stop"`` (``*`` stays within one path segment, ``**``
      spans several). Without ``path`` a fault hits every ``/v1``
      request, and the token endpoint only when ``path`` names it.
    - ``times``: how many matching requests it hits; ``None`` for no limit
      (the fault stays until ``clear_faults()``). Note that aiohttp's client
      resends an idempotent request (GET, PUT) once by itself when the
      connection closes without an answer: ``times=2`` makes a drop reach code
      built on aiohttp.
    - ``probability``: the chance (0 < p <= 1) that a matching request is hit.
      The draws come from the simulator's ``seed``, so a run that sends the
      same requests in the same order meets the same faults. The random faults
      that match one request share one draw: their probabilities add up, so
      ``Fault(500, probability=0.1)`` and ``Fault(429, probability=0.05)`` hit
      10% and 5% of the requests, never the same one.

    ``hits`` counts the requests it has hit so far.
    """

    status: int | None = 500
    _: KW_ONLY
    body: str = "json"
    code: str | int | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: Literal["before", "after"] | None = None
    times: int | None = 1
    method: str | None = None
    path: str | None = None
    probability: float = 1.0
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        _check_fault(self)
        if self.method is not None:
            self.method = self.method.upper()

    @property
    def remaining(self) -> int | None:
        """Hits left; ``None`` when the fault has no limit."""
        return None if self.times is None else self.times - self.hits

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and method.upper() != self.method:
            return False
        if self.path is None:
            return path.startswith("/v1/")
        return _glob(self.path).fullmatch(path) is not None


@functools.lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob: ``*`` is any text within one segment, ``**`` any text."""
    parts = []
    for piece in re.split(r"(\*\*|\*|\?)", pattern):
        if piece == "**":
            parts.append(".*")
        elif piece == "*":
            parts.append("[^/]*")
        elif piece == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def _seconds(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _check_fault(fault: Fault) -> None:
    status = fault.status
    if status is not None and (
        not isinstance(status, int)
        or isinstance(status, bool)
        or not 200 <= status <= 599
    ):
        raise ValueError(
            f"Fault status must be an HTTP status (200-599) or None, not {status!r}"
        )
    if not isinstance(fault.body, str):
        raise ValueError(
            f"Fault body must be 'json', 'html', 'empty' or a string to send as is, "
            f"not {type(fault.body).__name__}"
        )
    if fault.code is not None:
        text = str(fault.code)
        if isinstance(fault.code, bool) or len(text) != 8 or not text.isdigit():
            raise ValueError(
                f"Fault code must be Zuora's 8-digit code (resource + category, "
                f"e.g. '50000061'), not {fault.code!r}"
            )
    if fault.retry_after is not None and not _seconds(fault.retry_after):
        raise ValueError(
            f"Fault retry_after must be a finite number of seconds >= 0, "
            f"not {fault.retry_after!r}"
        )
    if not _seconds(fault.delay):
        raise ValueError(
            f"Fault delay must be a finite number of seconds >= 0, not {fault.delay!r}"
        )
    if fault.drop not in (None, "before", "after"):
        raise ValueError(
            f"Fault drop must be None, 'before' or 'after', not {fault.drop!r}"
        )
    if fault.times is not None and (
        not isinstance(fault.times, int)
        or isinstance(fault.times, bool)
        or fault.times < 1
    ):
        raise ValueError(
            f"Fault times must be a whole number >= 1, or None for no limit, "
            f"not {fault.times!r}"
        )
    probability = fault.probability
    if (
        not isinstance(probability, (int, float))
        or isinstance(probability, bool)
        or not 0 < probability <= 1
    ):
        raise ValueError(
            f"Fault probability must be a number > 0 and <= 1, not {probability!r}"
        )
    if fault.drop is not None and status is not None and status != 500:
        raise ValueError(
            "a dropped connection has no status: use Fault(status=None, drop=...)"
        )
    if fault.drop is None and status is None and fault.delay == 0:
        raise ValueError(
            "this Fault changes nothing: give it a status, a delay or a drop"
        )
    if status == 200 and fault.body == "json" and fault.code is None:
        raise ValueError(
            "Fault(status=200) with a JSON body needs a code, e.g. code='50000061': "
            "it answers success false with that code"
        )
    if fault.path is not None and not fault.path.startswith("/"):
        raise ValueError(f"Fault path must start with '/', not {fault.path!r}")


class FaultBook:
    """The injected faults, in the order they were injected."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(f"{seed}:faults")

    def add(self, fault: Fault) -> Fault:
        if not isinstance(fault, Fault):
            raise ValueError(f"inject() takes a Fault, not {type(fault).__name__}")
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault that hits this request, if any; counts the hit.

        Faults are tried in the order they were injected. A certain fault
        (probability 1) hits the first request it matches. Random ones share
        one draw per request, each owning a band of its probability's width,
        so that their shares of the requests add up.
        """
        draw: float | None = None
        band = 0.0
        for fault in self._faults:
            if fault.exhausted or not fault.matches(method, path):
                continue
            if fault.probability < 1:
                if draw is None:
                    draw = self._rng.random()
                band += fault.probability
                if draw >= band:
                    continue
            fault.hits += 1
            if fault.exhausted:
                self._faults.remove(fault)
            return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        return list(self._faults)
