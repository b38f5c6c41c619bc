"""Zuora-Track-Id: validation and the caller's override.

Zuora accepts a track id of at most 64 US-ASCII characters that contains none of
``:`` ``;`` ``"`` ``'`` and echoes it on the response, so that one value can be
searched for in Zuora's logs. By default the session layer derives it from the
OpenTelemetry span of the operation; ``with track_id("..."):`` replaces that
for every call made inside the block, in this task and the tasks it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["MAX_TRACK_ID_LENGTH", "current_override", "track_id", "validate_track_id"]

MAX_TRACK_ID_LENGTH = 64
_FORBIDDEN = frozenset(":;\"'")

_override: ContextVar[str | None] = ContextVar("aiozuora_track_id", default=None)


def validate_track_id(value: object) -> str:
    """Return ``value`` if Zuora accepts it as a Zuora-Track-Id, else raise ValueError.

    The message names the rule that was broken.
    """
    if not isinstance(value, str):
        raise ValueError(f"a track id must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError("a track id must not be empty")
    if len(value) > MAX_TRACK_ID_LENGTH:
        raise ValueError(
            f"a track id has at most {MAX_TRACK_ID_LENGTH} characters; "
            f"this one has {len(value)}"
        )
    for position, char in enumerate(value):
        if ord(char) > 0x7E:
            raise ValueError(
                f"a track id must be US-ASCII; {char!r} at position {position} is not"
            )
        if ord(char) < 0x20:
            raise ValueError(
                f"a track id must not contain control characters; "
                f"found {char!r} at position {position}"
            )
        if char in _FORBIDDEN:
            raise ValueError(
                "a track id must not contain a colon, semicolon, double quote or "
                f"single quote; found {char!r} at position {position}"
            )
    if value != value.strip(" "):
        raise ValueError(
            "a track id must not start or end with a space (HTTP would strip it)"
        )
    return value


@contextmanager
def track_id(value: str) -> Iterator[str]:
    """Send ``value`` as the Zuora-Track-Id of every call made inside the block.

    The value is checked at once, before any request, and a ``ValueError`` says
    which of Zuora's rules it breaks.
    """
    token = _override.set(validate_track_id(value))
    try:
        yield value
    finally:
        _override.reset(token)


def current_override() -> str | None:
    """The track id set by the innermost ``track_id`` block, if any."""
    return _override.get()
