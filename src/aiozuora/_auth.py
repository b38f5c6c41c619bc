"""Bearer tokens: a static one, or OAuth client credentials cached and refreshed.

The OAuth provider keeps one token and fetches a new one shortly before the old
one expires. However many calls need a token at once, one fetch is in flight;
they all wait on it. A failed fetch is not remembered: the next call tries
again. Tokens and the client secret are kept out of every repr.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "ClientCredentials",
    "Secret",
    "StaticToken",
    "Token",
    "TokenProvider",
    "refresh_margin",
]

logger = logging.getLogger("aiozuora.auth")

#: Zuora's tokens live an hour; used when ``expires_in`` is missing or unusable.
DEFAULT_TOKEN_LIFETIME = 3600.0
#: Refresh at most this many seconds before expiry (Zuora's own sample's margin).
MAX_REFRESH_MARGIN = 300.0


class Secret:
    """A string that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a token is replaced: a tenth of its life, <= 5 min."""
    return min(MAX_REFRESH_MARGIN, lifetime / 10)


@dataclass(frozen=True)
class Token:
    """A bearer token and the monotonic time after which it is not used."""

    value: Secret
    refresh_at: float = field(default=float("inf"))

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


class TokenProvider(Protocol):
    """Where the session layer gets the bearer token of each attempt."""

    async def token(self) -> Token: ...

    def invalidate(self, token: Token) -> bool:
        """Forget ``token`` after Zuora refused it; True if a new one can come."""
        ...

    async def aclose(self) -> None: ...


class StaticToken:
    """A token the caller obtained; it is never refreshed."""

    def __init__(self, access_token: str) -> None:
        self._token = Token(Secret(access_token))

    async def token(self) -> Token:
        return self._token

    def invalidate(self, token: Token) -> bool:
        return False

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticToken(access_token='***')"


#: Fetches a new token: returns the token and its lifetime in seconds.
TokenFetcher = Callable[[], Awaitable[tuple[Secret, float]]]


class ClientCredentials:
    """OAuth 2.0 client credentials: a cached token, one refresh at a time."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: Token | None = None
        self._refresh: asyncio.Task[Token] | None = None
        self.fetches = 0

    async def token(self) -> Token:
        token = self._token
        if token is not None and token.fresh(self._clock()):
            return token
        if self._refresh is None:
            self._refresh = asyncio.ensure_future(self._fetch_token())
            # Waiters may all be cancelled; the outcome is then read here so
            # that asyncio does not report an exception nobody retrieved.
            self._refresh.add_done_callback(_consume_outcome)
        # One caller's cancellation must not cancel the fetch the others await.
        return await asyncio.shield(self._refresh)

    async def _fetch_token(self) -> Token:
        try:
            self.fetches += 1
            started = self._clock()
            value, lifetime = await self._fetch()
            token = Token(value, started + lifetime - refresh_margin(lifetime))
            self._token = token
            logger.debug("OAuth token obtained, valid for %.0f s", lifetime)
            return token
        finally:
            self._refresh = None

    def invalidate(self, token: Token) -> bool:
        # Compare first: when many calls fail with the same stale token, only
        # the first one clears it, and the rest use the token fetched since.
        if self._token is token:
            self._token = None
        return True

    async def aclose(self) -> None:
        refresh, self._refresh = self._refresh, None
        if refresh is not None and not refresh.done():
            refresh.cancel()
            await asyncio.gather(refresh, return_exceptions=True)
        self._token = None

    def __repr__(self) -> str:
        return "ClientCredentials(client_secret='***')"


def _consume_outcome(task: asyncio.Task[Token]) -> None:
    if not task.cancelled():
        task.exception()
