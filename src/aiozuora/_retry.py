"""Which failures are retried, how long to wait, and when to give up.

The rules (``RetryPolicy`` holds the numbers):

- Only allowlisted failures are retried: connection errors, per-attempt
  timeouts, HTTP 429, 500, 502, 503 and 504, and Zuora error categories 50, 61,
  70 and 99 whatever the HTTP status; category 60 at most once per call.
- A 401 after which a fresh token may help is retried after a refresh,
  without counting against ``max_attempts`` (a POST too: Zuora refused it
  before doing anything). A 401 on the attempt right after a refresh ends the
  call, since the fresh token was refused too: this never loops. A token that
  expires again later in a long call, after other failures, is refreshed again.
- A 409 on a request that carries an Idempotency-Key means Zuora is still
  working on an earlier attempt with that key: it is retried with backoff, and
  Zuora answers the stored result once that attempt is done.
- A POST is retried only when it could not have reached Zuora (the connection
  was never made) or when it carries an Idempotency-Key.
- Delays use full jitter; a Retry-After on a 429, a 503 or a category 70 is
  honoured, capped at ``max_retry_after``. No sleep is started that would end
  after the deadline.
- A cancelled call is never retried. When retries run out, the last typed
  error is raised with ``attempts`` set.

tenacity runs the loop; the functions it is given are small and live here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from ._errors import APIError, ProtocolError, TransportError, ZuoraError
from ._policies import RetryPolicy

__all__ = [
    "ClientStats",
    "Failed",
    "Failure",
    "RetryRun",
    "api_failure",
    "transport_failure",
]

logger = logging.getLogger("aiozuora")

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_CATEGORIES = frozenset({50, 61, 70, 99})
ONCE_CATEGORIES = frozenset({60})
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER_CATEGORIES = frozenset({70})
_JITTER = random.Random()
#: Methods that may change state on each send; retried only when safe.
UNSAFE_METHODS = frozenset({"POST", "PATCH"})


@dataclass
class ClientStats:
    """What one client did: HTTP attempts made, and retries by reason."""

    attempts: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    token_requests: int = 0

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as the retry rules see it."""

    error: APIError | TransportError | ProtocolError
    #: Why it is worth retrying ("HTTP 503", "timeout", ...); None if it is not.
    reason: str | None
    #: Whether the request may have reached Zuora.
    sent: bool = True
    #: The wait the server asked for, when it is to be honoured.
    retry_after: float | None = None
    #: A 401 that a fresh token may cure.
    refresh: bool = False
    #: Retried at most once per call (category 60).
    once: bool = False
    #: Retried only when the request carries an Idempotency-Key (a 409).
    needs_idempotency_key: bool = False


class Failed(Exception):
    """Carries a Failure through tenacity; never leaves this package."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def api_failure(error: APIError, *, refreshable: bool) -> Failure:
    """The retry view of a failed answer."""
    status = error.status or 0
    category = error.category
    delay = None
    if status in RETRY_AFTER_STATUSES or category in RETRY_AFTER_CATEGORIES:
        delay = error.retry_after
    if status == 401 and refreshable:
        return Failure(error, "HTTP 401", refresh=True)
    if status in RETRY_STATUSES:
        return Failure(error, f"HTTP {status}", retry_after=delay)
    if category in RETRY_CATEGORIES:
        return Failure(error, f"category {category}", retry_after=delay)
    if category in ONCE_CATEGORIES:
        return Failure(error, f"category {category}", retry_after=delay, once=True)
    if status == 409:
        return Failure(error, "HTTP 409", needs_idempotency_key=True)
    return Failure(error, None)


def transport_failure(error: TransportError, *, timeout: bool, sent: bool) -> Failure:
    return Failure(error, "timeout" if timeout else "connection error", sent=sent)


def protocol_failure(error: ProtocolError) -> Failure:
    return Failure(error, None)


class RetryRun:
    """The attempts of one logical call, run by tenacity under a RetryPolicy."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        method: str,
        target: str,
        idempotency_key: bool,
        stats: ClientStats,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.method = method
        self.target = target
        self.idempotency_key = idempotency_key
        self.stats = stats
        self.rng = rng or _JITTER
        self.started = time.monotonic()
        self.refreshes = 0
        self.just_refreshed = False
        self.once_reasons: set[str] = set()

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.policy.deadline - (time.monotonic() - self.started)

    async def run(self, attempt: Callable[[int], Awaitable[T]]) -> T:
        """Call ``attempt(number)`` until it returns, or raise the last error.

        ``attempt`` raises ``Failed`` for a failure the rules should judge; any
        other exception (a cancellation above all) ends the call at once.
        """
        # Most calls succeed at once: the first attempt runs without tenacity,
        # whose set-up costs about as much CPU as the request itself. When it
        # fails, tenacity takes over and is shown that failure as its own
        # first attempt, so the rules see every attempt.
        try:
            return await attempt(1)
        except Failed as failed:
            first = failed

        retrying = AsyncRetrying(
            sleep=asyncio.sleep,
            retry=retry_if_exception(self._should_retry),
            wait=self._wait,
            stop=self._stop,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        number = 0

        async def next_attempt() -> T:
            nonlocal number
            number += 1
            if number == 1:
                raise first
            return await attempt(number)

        try:
            return await retrying(next_attempt)
        except Failed as failed:
            failure = failed.failure
        # Raised outside the except block, so that the internal Failed does not
        # become the error's context.
        self._give_up(failure, number)
        error = failure.error
        error.attempts = number
        raise error from error.__cause__

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, Failed):
            return False
        failure = exc.failure
        if failure.reason is None:
            return False
        if failure.refresh:
            return not self.just_refreshed
        if failure.needs_idempotency_key and not self.idempotency_key:
            return False
        if failure.sent and self._unsafe():
            return False
        return not (failure.once and failure.reason in self.once_reasons)

    def _unsafe(self) -> bool:
        return self.method in UNSAFE_METHODS and not self.idempotency_key

    @staticmethod
    def _failure(state: RetryCallState) -> Failure:
        assert state.outcome is not None
        exc = state.outcome.exception()
        assert isinstance(exc, Failed)
        return exc.failure

    def _retries_so_far(self, state: RetryCallState) -> int:
        return state.attempt_number - 1 - self.refreshes

    def _wait(self, state: RetryCallState) -> float:
        failure = self._failure(state)
        if failure.refresh:
            return 0.0
        policy = self.policy
        ceiling = min(
            policy.max_backoff,
            policy.initial_backoff * 2 ** self._retries_so_far(state),
        )
        delay = self.rng.uniform(0, ceiling)
        if failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, policy.max_retry_after))
        return delay

    def _stop(self, state: RetryCallState) -> bool:
        failure = self._failure(state)
        elapsed = time.monotonic() - self.started
        if elapsed + state.upcoming_sleep >= self.policy.deadline:
            return True
        if failure.refresh:
            return False
        return self._retries_so_far(state) + 1 >= self.policy.max_attempts

    def _before_sleep(self, state: RetryCallState) -> None:
        failure = self._failure(state)
        reason = failure.reason or "unknown"
        self.just_refreshed = failure.refresh
        if failure.refresh:
            self.refreshes += 1
        if failure.once:
            self.once_reasons.add(reason)
        self.stats.retries[reason] += 1
        delay = state.upcoming_sleep
        logger.info(
            "retrying %s %s in %.3f s after %s (attempt %d failed)%s",
            self.method,
            self.target,
            delay,
            reason,
            state.attempt_number,
            _ids(failure.error),
            extra={
                "reason": reason,
                "delay": delay,
                "attempt": state.attempt_number,
            },
        )

    def _give_up(self, failure: Failure, attempts: int) -> None:
        if failure.reason is None:
            return
        if failure.needs_idempotency_key and not self.idempotency_key:
            return
        if failure.sent and self._unsafe() and not failure.refresh:
            why = "it may have reached Zuora and has no Idempotency-Key"
        else:
            why = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        logger.warning(
            "giving up on %s %s %s: %s%s",
            self.method,
            self.target,
            why,
            failure.reason,
            _ids(failure.error),
            extra={"reason": failure.reason, "attempt": attempts},
        )


def _ids(error: ZuoraError) -> str:
    parts = [
        f"{name}={value}"
        for name in ("request_id", "track_id")
        if (value := getattr(error, name, None))
    ]
    return f" [{', '.join(parts)}]" if parts else ""
