"""Errors raised by aiozuora.

The tree::

    ZuoraError                      anything aiozuora raises on purpose
    ├── APIError                    Zuora answered, and the answer is a failure
    │   ├── AuthenticationError     HTTP 401, or category 11
    │   ├── PermissionDeniedError   HTTP 403, or category 10
    │   ├── NotFoundError           HTTP 404, or category 40
    │   ├── InvalidRequestError     other 4xx, or success false in a 200
    │   ├── RateLimitError          HTTP 429, or category 70
    │   └── ServerError             HTTP 5xx, or categories 50, 60, 61, 99
    ├── TransportError              no answer: connection refused, reset, timed out
    ├── ProtocolError               an answer that is not what Zuora sends
    ├── MassActionNotStoppableError the action already Completed or Failed
    ├── NoResponseFileError         the action has no response file (yet, or ever)
    └── WaitTimeoutError            the action did not reach a final state in time
                                    (also a TimeoutError)

Every error's first line says which request it was: the HTTP status, Zuora's
code and message, the Zuora-Request-Id and the Zuora-Track-Id, so that it can be
pasted into a support case as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import MassAction

__all__ = [
    "APIError",
    "AuthenticationError",
    "InvalidRequestError",
    "MassActionNotStoppableError",
    "NoResponseFileError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "Reason",
    "ServerError",
    "TransportError",
    "WaitTimeoutError",
    "ZuoraError",
    "category_of",
]


@dataclass(frozen=True)
class Reason:
    """One entry of Zuora's ``reasons`` list."""

    code: str | None
    message: str

    @property
    def category(self) -> int | None:
        return category_of(self.code)


def category_of(code: str | int | None) -> int | None:
    """The category of an 8-digit Zuora error code: its last two digits."""
    if code is None or isinstance(code, bool):
        return None
    text = str(code).strip()
    if len(text) != 8 or not text.isdigit():
        return None
    return int(text[-2:])


class ZuoraError(Exception):
    """Base class of every error aiozuora raises on purpose."""

    #: The Idempotency-Key a failed call sent, if it sent one (``submit``
    #: always does). Zuora keeps it for 24 hours: repeating the call with it
    #: returns the first result instead of doing the work twice.
    idempotency_key: str | None = None


def _context(**fields: object) -> str:
    parts = [f"{name}={value}" for name, value in fields.items() if value is not None]
    return f" [{', '.join(parts)}]" if parts else ""


class APIError(ZuoraError):
    """Zuora answered, and the answer says the call failed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        reasons: Sequence[Reason] = (),
        request_id: str | None = None,
        process_id: str | None = None,
        track_id: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = None if code is None else str(code)
        self.category = category_of(self.code)
        self.reasons = tuple(reasons)
        self.request_id = request_id
        self.process_id = process_id
        self.track_id = track_id
        self.attempts = attempts
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        head = f"HTTP {self.status}" if self.status is not None else "Zuora error"
        if self.code is not None:
            head += f", code {self.code}"
        text = f"{head}: {self.message}" + _context(
            request_id=self.request_id,
            track_id=self.track_id,
            process_id=self.process_id,
        )
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        extra = [f"{r.code}: {r.message}" for r in self.reasons[1:]]
        return "\n".join([text, *extra])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r}, "
            f"track_id={self.track_id!r}, attempts={self.attempts!r})"
        )


class AuthenticationError(APIError):
    """The credentials or the token were refused (HTTP 401, category 11)."""


class PermissionDeniedError(APIError):
    """Authenticated, but not allowed (HTTP 403, category 10)."""


class NotFoundError(APIError):
    """The resource does not exist in the tenant (HTTP 404, category 40)."""


class InvalidRequestError(APIError):
    """The request was refused as it stands; fix it before sending it again."""


class RateLimitError(APIError):
    """A rate or concurrency limit was hit (HTTP 429, category 70)."""


class ServerError(APIError):
    """Zuora failed (HTTP 5xx, or categories 50, 60, 61, 99)."""


class TransportError(ZuoraError):
    """No usable answer arrived: the connection failed, broke or timed out."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        track_id: str | None = None,
        attempts: int = 1,
        timed_out: bool = False,
    ) -> None:
        self.message = message
        self.method = method
        self.url = url
        self.track_id = track_id
        self.attempts = attempts
        #: True when the attempt ran out of time rather than losing its connection.
        self.timed_out = timed_out
        super().__init__(message)

    def __str__(self) -> str:
        target = f"{self.method} {self.url}: " if self.method and self.url else ""
        text = f"{target}{self.message}" + _context(track_id=self.track_id)
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        return text


class ProtocolError(ZuoraError):
    """An answer that is not what Zuora sends: HTML on a 200, bad JSON, bad shape."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        track_id: str | None = None,
        attempts: int = 1,
        body_excerpt: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.request_id = request_id
        self.track_id = track_id
        self.attempts = attempts
        self.body_excerpt = body_excerpt
        super().__init__(message)

    def __str__(self) -> str:
        head = f"HTTP {self.status}: " if self.status is not None else ""
        text = f"{head}{self.message}" + _context(
            request_id=self.request_id, track_id=self.track_id
        )
        if self.body_excerpt:
            text += f"\nbody starts: {self.body_excerpt!r}"
        return text


class MassActionNotStoppableError(ZuoraError):
    """The mass action already reached Completed or Failed: there is nothing to stop."""

    def __init__(self, action: MassAction, cause: APIError | None = None) -> None:
        self.action = action
        self.cause = cause
        super().__init__(action.bulk_key)

    def __str__(self) -> str:
        text = (
            f"mass action {self.action.bulk_key} cannot be stopped: "
            f"it is already {self.action.status}"
        )
        if self.cause is not None:
            text += _context(
                request_id=self.cause.request_id, track_id=self.cause.track_id
            )
        return text


class NoResponseFileError(ZuoraError):
    """The mass action has no response file to read.

    Zuora writes a response file when an action Completed, or Stopped after it
    had started processing records. An action stopped while still Pending, an
    action that Failed, and an action that is still running have none;
    ``action`` is the state that was looked at, and the message says which case
    it is.
    """

    def __init__(self, action: MassAction) -> None:
        self.action = action
        super().__init__(action.bulk_key)

    def __str__(self) -> str:
        key, status = self.action.bulk_key, str(self.action.status)
        if status == "Stopped":
            why = (
                "it was stopped before processing started, so no record was "
                "processed and Zuora wrote no file"
            )
        elif status == "Failed":
            why = "it Failed before processing any record, so Zuora wrote no file"
        elif not self.action.is_terminal:
            why = (
                f"it is still {status}; Zuora writes the file once the action is "
                "Completed or Stopped"
            )
        else:
            why = f"Zuora reports no outputURL although it is {status}"
        return f"mass action {key} has no response file: {why}"


class WaitTimeoutError(ZuoraError, TimeoutError):
    """The mass action did not reach a final state within the timeout."""

    def __init__(
        self,
        bulk_key: str,
        timeout: float,
        last: MassAction | None,
        *,
        last_error: Exception | None = None,
    ) -> None:
        self.bulk_key = bulk_key
        self.timeout = timeout
        self.last = last
        #: Why the latest poll failed, when it did: a wait that only ever saw
        #: failures (a host that cannot be reached) says so instead of
        #: looking merely slow.
        self.last_error = last_error
        super().__init__(bulk_key)

    def __str__(self) -> str:
        seen = f"last seen {self.last.status}" if self.last else "no state seen"
        text = (
            f"mass action {self.bulk_key} did not reach a final state "
            f"within {self.timeout:g} s ({seen})"
        )
        if self.last_error is not None:
            text += f"; the latest poll failed: {self.last_error}"
        return text
