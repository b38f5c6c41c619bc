"""ZuoraClient: the one place every HTTP call of aiozuora goes through.

A call is made of attempts. Each attempt gets a bearer token, builds the
headers (Zuora-Track-Id, entity and org ids, gzip, User-Agent), opens a CLIENT
span, sends the request with a per-attempt timeout, and turns the answer into a
result or a typed error. The retry rules in ``_retry`` decide whether another
attempt follows.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import os
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

import aiohttp
from opentelemetry.trace import Span, TracerProvider
from opentelemetry.util.types import AttributeValue
from yarl import URL

from ._auth import (
    DEFAULT_TOKEN_LIFETIME,
    ClientCredentials,
    Secret,
    StaticToken,
    Token,
    TokenProvider,
)
from ._errors import (
    APIError,
    AuthenticationError,
    ProtocolError,
    TransportError,
    ZuoraError,
)
from ._headers import USER_AGENT, check_base_url, check_url, id_list, same_origin
from ._policies import RetryPolicy
from ._responses import RawResponse, api_error, check_success, json_body, json_object
from ._retry import (
    ClientStats,
    Failed,
    Failure,
    RetryRun,
    api_failure,
    transport_failure,
)
from ._tracing import Attempt, Tracing, current_track_id, in_operation

if TYPE_CHECKING:
    from ._mass_actions import MassActions

__all__ = ["ClientStats", "Environment", "ZuoraClient"]

logger = logging.getLogger("aiozuora")

T = TypeVar("T")

_DOWNLOAD_CHUNK = 64 * 1024
#: What can follow "Bearer " in a header: visible US-ASCII, no spaces.
_BEARER_TOKEN = re.compile(r"[\x21-\x7e]+")
_MAX_IDEMPOTENCY_KEY = 255


class Environment(str, Enum):
    """Zuora's REST base URLs, one per environment."""

    US_CENTRAL_SANDBOX = "https://rest.test.zuora.com"
    US_API_SANDBOX_CLOUD_1 = "https://rest.sandbox.na.zuora.com"
    US_API_SANDBOX_CLOUD_2 = "https://rest.apisandbox.zuora.com"
    US_PRODUCTION_CLOUD_1 = "https://rest.na.zuora.com"
    US_PRODUCTION_CLOUD_2 = "https://rest.zuora.com"
    EU_CENTRAL_SANDBOX = "https://rest.test.eu.zuora.com"
    EU_API_SANDBOX = "https://rest.sandbox.eu.zuora.com"
    EU_PRODUCTION = "https://rest.eu.zuora.com"
    APAC_CENTRAL_SANDBOX = "https://rest.test.ap.zuora.com"
    APAC_PRODUCTION = "https://rest.ap.zuora.com"

    def __str__(self) -> str:
        return self.value

    @property
    def cli_name(self) -> str:
        """The member's name as the command line spells it: ``eu-production``."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_name(cls, name: str) -> Environment:
        """The environment called ``name``.

        Accepts the member name in any case with ``-`` or ``_``
        (``us-central-sandbox``), the short names of Zuora's own SDK (``sbx``,
        ``prod-eu``, ...), the plain ``us-sandbox`` / ``us-production`` style
        (the Developer & Central Sandbox and Cloud 2 production, and the one
        sandbox and production of the EU and APAC), or the base URL itself.
        """
        key = name.strip().lower().replace("_", "-").rstrip("/")
        for member in cls:
            if key in (member.cli_name, member.value):
                return member
        if key in _ALIASES:
            return cls[_ALIASES[key]]
        known = ", ".join(environment_names())
        raise ValueError(f"unknown Zuora environment {name!r}; known: {known}")


_ALIASES = {
    "us-sandbox": "US_CENTRAL_SANDBOX",
    "us-production": "US_PRODUCTION_CLOUD_2",
    "eu-sandbox": "EU_CENTRAL_SANDBOX",
    "eu-production": "EU_PRODUCTION",
    "apac-sandbox": "APAC_CENTRAL_SANDBOX",
    "apac-production": "APAC_PRODUCTION",
    # The names of Zuora's Python SDK enum.
    "csbx": "US_CENTRAL_SANDBOX",
    "sbx-na": "US_API_SANDBOX_CLOUD_1",
    "sbx": "US_API_SANDBOX_CLOUD_2",
    "prod-na": "US_PRODUCTION_CLOUD_1",
    "prod": "US_PRODUCTION_CLOUD_2",
    "csbx-eu": "EU_CENTRAL_SANDBOX",
    "sbx-eu": "EU_API_SANDBOX",
    "prod-eu": "EU_PRODUCTION",
    "csbx-ap": "APAC_CENTRAL_SANDBOX",
    "prod-ap": "APAC_PRODUCTION",
}


def environment_names() -> list[str]:
    """Every name ``Environment.from_name`` accepts: the short ``us-sandbox``
    style first, then the members' names, then the names of Zuora's SDK."""
    plain = [name for name in _ALIASES if not name.startswith(("csbx", "sbx", "prod"))]
    members = [member.cli_name for member in Environment]
    short = [name for name in _ALIASES if name not in plain]
    return list(dict.fromkeys([*plain, *members, *short]))


def _refuse_environment_name(url: str) -> None:
    """Point a caller who passed ``"us-sandbox"`` as a URL to the way to do it."""
    try:
        environment = Environment.from_name(url)
    except ValueError:
        return
    raise ValueError(
        f"base_url {url!r} is the name of an environment, not a URL; pass "
        f"Environment.from_name({url!r}) (or {environment.value!r})"
    )


def _positive(value: float, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (0 < value < float("inf"))
    ):
        raise ValueError(
            f"{name} must be a finite number of seconds > 0, not {value!r}"
        )
    return float(value)


def _idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value
        or len(value) > _MAX_IDEMPOTENCY_KEY
        or not value.isascii()
        or not value.isprintable()
    ):
        raise ValueError(
            f"an Idempotency-Key is 1 to {_MAX_IDEMPOTENCY_KEY} printable US-ASCII "
            f"characters; got {value!r}"
        )
    return value


def _path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise ValueError(
            f"path must start with a single '/' (e.g. '/v1/bulk'), not {path!r}"
        )
    return path


class ZuoraClient:
    """An async client for Zuora's REST API, focused on the Mass Updater.

    Authenticate with OAuth client credentials (``client_id`` and
    ``client_secret``; the token is fetched, cached and refreshed for you) or
    with an ``access_token`` you obtained. ``base_url`` is an ``Environment`` or
    a URL: https, or http for a loopback host such as the simulator.

    At most ``max_connections`` requests are in flight at once (Zuora's default
    concurrency limit is 40 per tenant). ``timeout`` bounds each attempt,
    including a read that stalls. ``retry`` says which failures are retried and
    for how long. Give ``session`` to use your own ``aiohttp.ClientSession``
    (it is not closed for you, and its connector's limit applies), and
    ``tracer_provider`` to trace with a provider other than the global one.
    Certificates are always verified against the system's CA store (with
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured), whatever the session's
    connector says.

    Use it as an async context manager, or call ``await client.close()``.
    """

    def __init__(
        self,
        base_url: Environment | str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | None = None,
        entity_ids: str | Iterable[str] | None = None,
        org_ids: str | Iterable[str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_connections: int = 20,
        session: aiohttp.ClientSession | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        url = base_url.value if isinstance(base_url, Environment) else base_url
        if not isinstance(url, str):
            raise ValueError(
                f"base_url must be an Environment or a URL string, not {url!r}"
            )
        if "://" not in url:
            _refuse_environment_name(url)
        self._base = check_base_url(url)
        self.base_url = str(self._base)
        self._base_path = self._base.path.rstrip("/")

        self._auth = self._make_auth(client_id, client_secret, access_token)
        self._entity_ids = id_list(entity_ids, "Zuora-Entity-Ids")
        self._org_ids = id_list(org_ids, "Zuora-Org-Ids")

        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValueError(f"retry must be a RetryPolicy, not {retry!r}")
        self.retry_policy = retry or RetryPolicy()
        self.timeout = _positive(timeout, "timeout")
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or max_connections < 1
        ):
            raise ValueError(
                f"max_connections must be a whole number >= 1, not {max_connections!r}"
            )
        self.max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)

        self._session = session
        self._owns_session = session is None
        self._tracing = Tracing(tracer_provider)
        self._ssl: ssl.SSLContext | None = None
        self._closed = False
        self._mass_actions: MassActions | None = None
        self.stats = ClientStats()

    def _make_auth(
        self,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | None,
    ) -> TokenProvider:
        if access_token is not None:
            if client_id is not None or client_secret is not None:
                raise ValueError(
                    "give either access_token or client_id and client_secret, not both"
                )
            if not isinstance(access_token, str) or not access_token:
                raise ValueError("access_token must be a non-empty string")
            if not _BEARER_TOKEN.fullmatch(access_token):
                # The value is a secret: the message does not repeat it.
                raise ValueError(
                    "access_token must be printable US-ASCII without spaces or "
                    "line breaks (it is sent as 'Authorization: Bearer <token>'); "
                    "give the token alone, without 'Bearer '"
                )
            return StaticToken(access_token)
        if not client_id or not client_secret:
            raise ValueError(
                "credentials missing: give client_id and client_secret (OAuth client "
                "credentials) or access_token"
            )
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise ValueError("client_id and client_secret must be strings")
        self._client_id = client_id
        self._client_secret = Secret(client_secret)
        return ClientCredentials(self._fetch_token)

    def __repr__(self) -> str:
        auth = "access_token" if isinstance(self._auth, StaticToken) else "oauth"
        state = ", closed" if self._closed else ""
        return f"ZuoraClient({self.base_url!r}, auth={auth}{state})"

    # -- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> ZuoraClient:
        self._open_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client and the session it made; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._auth.aclose()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "this ZuoraClient is closed; create a new one to make more calls"
            )

    def _open_session(self) -> aiohttp.ClientSession:
        self._check_open()
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
        elif self._session.closed:
            raise RuntimeError("the aiohttp session given to ZuoraClient is closed")
        return self._session

    def _ssl_for(self, url: URL) -> ssl.SSLContext | bool:
        if url.scheme != "https":
            return True
        # A verifying context of our own, so that a session's connector cannot
        # turn certificate checks off for calls that carry credentials.
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    # -- resources ---------------------------------------------------------

    @property
    def mass_actions(self) -> MassActions:
        """Submit, inspect, stop and wait for mass actions."""
        self._check_open()
        if self._mass_actions is None:
            # Imported here: the resources sit above the session layer.
            from ._mass_actions import MassActions

            self._mass_actions = MassActions(self)
        return self._mass_actions

    # -- public escape hatch -------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Call any other endpoint of Zuora's REST API under ``base_url``.

        Same auth, track id, tracing, retries and error mapping as the SDK's own
        calls. Returns the decoded JSON (None for an empty 204); a
        ``success: false`` body raises the matching ``APIError``. ``data`` may be
        a callable returning a fresh body for each attempt (needed for
        ``aiohttp.FormData``, which can be sent only once).

        A POST or PATCH is retried only when it cannot have reached Zuora, or
        when ``headers`` carry an ``Idempotency-Key``: the same key then goes
        with every attempt, and Zuora answers a repeat with the first result.
        """
        method = method.upper()
        url = self._url(path)
        key = None
        if headers is not None:
            given = [v for n, v in headers.items() if n.lower() == "idempotency-key"]
            if given:
                key = _idempotency_key(given[-1])
                headers = {
                    n: v for n, v in headers.items() if n.lower() != "idempotency-key"
                }
        async with self._operation("zuora.request", {"http.request.method": method}):

            def read(response: RawResponse) -> Any:
                data = json_body(response)
                check_success(response, data)
                return data

            return await self._call(
                method,
                url,
                json=json,
                data=data,
                headers=headers,
                params=params,
                idempotency_key=key,
                read=_buffered(read),
            )

    # -- internal interface for resources ------------------------------------

    def _operation(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> AbstractAsyncContextManager[Span]:
        """An INTERNAL span; every call inside sends a track id derived from it."""
        self._check_open()
        return self._tracing.operation(name, attributes)

    async def _call_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Callable[[], aiohttp.FormData] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One logical call that answers a JSON object; errors are typed."""
        method = method.upper()
        url = self._url(path)
        key = _idempotency_key(idempotency_key)

        def call() -> Awaitable[dict[str, Any]]:
            return self._call(
                method,
                url,
                json=json,
                data=data,
                headers=headers,
                params=params,
                idempotency_key=key,
                read=_buffered(json_object),
            )

        if in_operation():
            return await call()
        async with self._operation("zuora.request", {"http.request.method": method}):
            return await call()

    async def _download(self, url: str, dest: IO[bytes]) -> int:
        """GET ``url`` into ``dest``; returns the number of bytes written.

        Authorization is sent only when ``url`` has the origin of ``base_url``.
        Retried like any GET; ``dest`` is rewound and truncated before each try.
        """
        target = check_url(url, "download URL")
        authorize = same_origin(target, self._base)

        async def read(response: aiohttp.ClientResponse) -> int:
            dest.seek(0)
            dest.truncate()
            written = 0
            async for chunk in response.content.iter_chunked(_DOWNLOAD_CHUNK):
                dest.write(chunk)
                written += len(chunk)
            return written

        def call() -> Awaitable[int]:
            return self._call(
                "GET", target, authorize=authorize, read=read, stream=True
            )

        if in_operation():
            return await call()
        async with self._operation("zuora.download"):
            return await call()

    # -- the call ------------------------------------------------------------

    def _url(self, path: str) -> URL:
        path = _path(path)
        if "?" in path or "#" in path:
            return URL(self.base_url + path, encoded=False)
        # with_path encodes only the path: several times cheaper than parsing
        # the whole URL again, which every call would otherwise do.
        return self._base.with_path(self._base_path + path)

    async def _call(
        self,
        method: str,
        url: URL,
        *,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        authorize: bool = True,
        stream: bool = False,
    ) -> T:
        if json is not None and data is not None:
            raise ValueError("give json or data, not both")
        session = self._open_session()
        if params:
            # In the URL itself, so that spans and logs show the query sent.
            url = url.update_query(dict(params))
        track = current_track_id()
        run = RetryRun(
            self.retry_policy,
            method=method,
            target=str(url),
            idempotency_key=idempotency_key is not None,
            stats=self.stats,
        )

        async def attempt(number: int) -> T:
            token = await self._token(number, url, track) if authorize else None
            # A call waits for its turn before it builds anything: thousands of
            # queued calls then hold no request, span or timer, and an
            # attempt's timeout starts when it may really be sent, not while
            # it queues for a connection.
            async with self._slots:
                return await send(number, token)

        async def send(number: int, token: Token | None) -> T:
            request_headers = self._headers(headers, token, track, idempotency_key)
            body = data() if callable(data) else data
            limit = max(min(self.timeout, run.remaining()), 0.001)
            self.stats.attempts += 1
            with self._tracing.attempt(
                method, url, track_id=track, attempt=number
            ) as span:
                now = _Try(method, url, track, number, limit, span)
                try:
                    async with session.request(
                        method,
                        url,
                        headers=request_headers,
                        json=json,
                        data=body,
                        timeout=_timeout(limit, stream),
                        ssl=self._ssl_for(url),
                        allow_redirects=stream,
                    ) as response:
                        return await self._answer(now, response, read, token)
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    raise _transport_failed(now, exc) from exc

        try:
            return await run.run(attempt)
        except ZuoraError as error:
            # The work may have been done: the key lets the caller ask again
            # without doing it twice.
            error.idempotency_key = idempotency_key
            raise

    async def _token(self, number: int, url: URL, track: str | None) -> Token:
        try:
            return await self._auth.token()
        except (APIError, TransportError, ProtocolError) as shared:
            # Every call waiting on the fetch gets it; each raises its own copy.
            exc = copy.copy(shared)
            exc.__cause__ = shared.__cause__
            # No request went to Zuora's API: retrying is safe even for a POST.
            if isinstance(exc, APIError):
                failure = api_failure(exc, refreshable=False)
            elif isinstance(exc, TransportError):
                failure = transport_failure(exc, timeout=exc.timed_out, sent=False)
            else:
                failure = Failure(exc, None)
            logger.debug("no token for attempt %d of %s: %s", number, url, exc)
            raise Failed(dataclasses.replace(failure, sent=False)) from exc

    def _headers(
        self,
        extra: Mapping[str, str] | None,
        token: Token | None,
        track: str | None,
        idempotency_key: str | None,
    ) -> dict[str, str]:
        headers = {"Accept": "application/json", **(extra or {})}
        headers["Accept-Encoding"] = "gzip"
        headers["User-Agent"] = USER_AGENT
        if token is not None:
            headers["Authorization"] = f"Bearer {token.value.reveal()}"
        if track is not None:
            headers["Zuora-Track-Id"] = track
        if self._entity_ids is not None:
            headers["Zuora-Entity-Ids"] = self._entity_ids
        if self._org_ids is not None:
            headers["Zuora-Org-Ids"] = self._org_ids
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _answer(
        self,
        now: _Try,
        response: aiohttp.ClientResponse,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        token: Token | None,
    ) -> T:
        request_id = response.headers.get("Zuora-Request-Id")
        now.span.answered(response.status, request_id)
        now.log(f"HTTP {response.status}", request_id)
        if 200 <= response.status < 300:
            try:
                return await read(response)
            except (APIError, ProtocolError) as exc:
                if exc.track_id is None:
                    exc.track_id = now.track
                now.span.fail(exc)
                if isinstance(exc, APIError):
                    raise Failed(api_failure(exc, refreshable=False)) from None
                raise Failed(Failure(exc, None)) from None

        body = await response.read()
        error = api_error(
            RawResponse(response.status, response.headers, body, now.track)
        )
        now.span.fail(error, str(response.status))
        refreshable = (
            response.status == 401
            and token is not None
            and self._auth.invalidate(token)
        )
        if response.status == 401 and isinstance(self._auth, StaticToken):
            error.message += (
                " (the access_token given to ZuoraClient was refused: it may have "
                "expired, and it is never refreshed; give a new one, or client_id "
                "and client_secret to have tokens fetched and refreshed)"
            )
        raise Failed(api_failure(error, refreshable=refreshable))

    # -- OAuth ---------------------------------------------------------------

    async def _fetch_token(self) -> tuple[Secret, float]:
        session = self._open_session()
        url = self._base.with_path(self._base_path + "/oauth/token")
        track = current_track_id()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if track is not None:
            headers["Zuora-Track-Id"] = track
        form = {
            "client_id": self._client_id,
            "client_secret": self._client_secret.reveal(),
            "grant_type": "client_credentials",
        }
        self.stats.token_requests += 1
        with self._tracing.attempt(
            "POST", url, track_id=track, attempt=1, name="POST /oauth/token"
        ) as span:
            now = _Try("POST", url, track, 1, self.timeout, span)
            try:
                async with session.post(
                    url,
                    data=form,
                    headers=headers,
                    timeout=_timeout(self.timeout, False),
                    ssl=self._ssl_for(url),
                    allow_redirects=False,
                ) as response:
                    request_id = response.headers.get("Zuora-Request-Id")
                    span.answered(response.status, request_id)
                    now.log(f"HTTP {response.status}", request_id)
                    body = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise _transport_failed(now, exc).failure.error from exc
            raw = RawResponse(response.status, response.headers, body, track)
            if not 200 <= raw.status < 300:
                error = api_error(raw)
                span.fail(error, str(raw.status))
                if isinstance(error, AuthenticationError):
                    error.message = (
                        f"Zuora refused the OAuth client credentials "
                        f"({error.message}); check client_id and client_secret, "
                        f"and that {self.base_url} is the environment the OAuth "
                        f"client was created in"
                    )
                raise error
            return _token_from(raw)


@dataclass
class _Try:
    """One HTTP attempt under way: what its log line, span and error name."""

    method: str
    url: URL
    track: str | None
    number: int
    limit: float
    span: Attempt
    started: float = field(default_factory=time.monotonic)

    def log(self, outcome: str, request_id: str | None = None) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        ids = [f"track_id={self.track}"] if self.track else []
        if request_id:
            ids.append(f"request_id={request_id}")
        logger.debug(
            "%s %s attempt %d: %s in %.1f ms%s",
            self.method,
            self.url,
            self.number,
            outcome,
            (time.monotonic() - self.started) * 1000,
            f" [{', '.join(ids)}]" if ids else "",
        )


def _timeout(limit: float, stream: bool) -> aiohttp.ClientTimeout:
    if stream:
        # A download may take longer than one attempt's timeout; what is
        # bounded is connecting and each silence while reading.
        return aiohttp.ClientTimeout(total=None, sock_connect=limit, sock_read=limit)
    # The total already bounds a silent read; a sock_read timer as long would
    # only be re-armed on every chunk received.
    return aiohttp.ClientTimeout(total=limit)


def _transport_failed(now: _Try, exc: BaseException) -> Failed:
    """The Failure of an attempt that got no usable answer."""
    timeout = isinstance(exc, asyncio.TimeoutError)
    # Only a connection that was never made proves the request did not reach
    # Zuora; anything later may have been applied.
    sent = not isinstance(
        exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
    )
    if timeout:
        message = f"no answer within {now.limit:g} s"
    else:
        message = f"connection failed: {_connection_failure(exc)}"
    error = TransportError(
        message,
        method=now.method,
        url=str(now.url),
        track_id=now.track,
        attempts=now.number,
        timed_out=timeout,
    )
    now.span.fail(exc, "timeout" if timeout else None)
    now.log(message)
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch)):
        # A certificate that does not verify will not verify next time.
        return Failed(Failure(error, None, sent=sent))
    return Failed(transport_failure(error, timeout=timeout, sent=sent))


def _connection_failure(exc: BaseException) -> str:
    """Why a connection failed, in words: aiohttp's own text of a failed
    connect carries the repr of the SSL context (``ssl:<ssl.SSLContext object
    at 0x...>``), which tells a reader nothing."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"cannot connect to {exc.host}:{exc.port}: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionError) and cause.errno:
            # Its own text is asyncio's "Connect call failed (host, port)".
            reason = os.strerror(cause.errno)
        else:
            reason = cause.strerror or str(cause) or type(cause).__name__
        return f"cannot connect to {exc.host}:{exc.port}: {reason}"
    return _SSL_REPR.sub("", str(exc)) or type(exc).__name__


_SSL_REPR = re.compile(r" ?ssl:(<[^>]*>|default|True|False)")


def _token_from(raw: RawResponse) -> tuple[Secret, float]:
    # The body holds the token: it never goes into an error message.
    data = json_body(raw, excerpt=False)
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ProtocolError(
            "the token answer has no access_token",
            status=raw.status,
            request_id=raw.request_id,
            track_id=raw.track_id,
        )
    if not _BEARER_TOKEN.fullmatch(token):
        # It would break the Authorization header of every call; the value
        # itself stays out of the message.
        raise ProtocolError(
            f"the token answer's access_token ({len(token)} characters) is not a "
            "bearer token: it must be printable US-ASCII without spaces",
            status=raw.status,
            request_id=raw.request_id,
            track_id=raw.track_id,
        )
    lifetime = data.get("expires_in")
    if (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, (int, float))
        or not 0 < lifetime < float("inf")
    ):
        lifetime = DEFAULT_TOKEN_LIFETIME
    return Secret(token), float(lifetime)


def _buffered(
    parse: Callable[[RawResponse], T],
) -> Callable[[aiohttp.ClientResponse], Awaitable[T]]:
    """A reader that reads the whole body, then parses it."""

    async def read(response: aiohttp.ClientResponse) -> T:
        track = response.request_info.headers.get("Zuora-Track-Id")
        raw = RawResponse(
            response.status, response.headers, await response.read(), track
        )
        return parse(raw)

    return read
