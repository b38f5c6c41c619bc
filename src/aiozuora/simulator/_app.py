"""The simulated tenant: its HTTP routes, the checks every request goes through,
and the state the routes change."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import CIMultiDictProxy

from .._track_id import validate_track_id
from ._faults import Fault, FaultBook
from ._files import ACTION_TYPES, MAX_UPLOAD_BYTES, UploadError, read_upload
from ._state import SimulatedAction, Timing
from ._wire import (
    business_failure,
    code_for,
    error_response,
    json_response,
    maybe_gzip,
    request_id,
)

__all__ = ["Options", "RecordedRequest", "Tenant"]

logger = logging.getLogger("aiozuora.simulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TOKEN_PATH = "/oauth/token"
_IDEMPOTENCY_TTL = 24 * 3600.0
_IDEMPOTENCY_KEY_MAX = 255
_RATE_LIMIT_MINUTE = 50_000
_RATE_LIMIT_HEADER = "50000, 50000;w=60, 2250000;w=3600, 27000000;w=86400"
_AUTH_LIMIT_MINUTE = 100
_UPLOADED_BY = "api.user@example.com"
#: Room for a multipart body around a file at Zuora's 4 MB limit; a larger body
#: is cut off by the server before the upload checks see it.
CLIENT_MAX_SIZE = 2 * MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class Options:
    """The simulator's settings, checked by ZuoraSimulator."""

    client_id: str
    client_secret: str
    token_ttl: float
    timing: Timing
    concurrency_limit: int
    latency: float
    output_host: str | None
    seed: int


@dataclass(eq=False)
class RecordedRequest:
    """One request the simulator received.

    ``headers`` are case-insensitive; ``time`` is the simulator's clock when the
    request arrived; ``status`` is the HTTP status answered, or ``None`` when the
    connection was dropped; ``fault`` is the injected Fault that hit it.
    """

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    time: float
    status: int | None = None
    fault: Fault | None = None
    query: dict[str, str] = field(default_factory=dict)
    host: str | None = None


#: The Zuora-Request-Id of the request being answered (each runs in its own task).
_current_request_id: ContextVar[str] = ContextVar("zuora_request_id", default="")


class _Drop(Exception):
    """Close the connection without an answer."""


@dataclass
class _IdempotentCall:
    method: str
    path: str
    created: float
    status: int | None = None
    body: bytes = b""
    content_type: str = "application/json"

    @property
    def in_progress(self) -> bool:
        return self.status is None


class Tenant:
    """Everything one simulated Zuora tenant knows, and the routes that use it."""

    def __init__(
        self,
        options: Options,
        clock: Callable[[], float],
        wall: Callable[[float], float],
    ) -> None:
        self.options = options
        self.clock = clock
        self.wall = wall
        self.faults = FaultBook(options.seed)
        self.requests: list[RecordedRequest] = []
        self.actions: dict[str, SimulatedAction] = {}
        self.files: dict[str, SimulatedAction] = {}
        self.base_url = ""
        self.port = 0
        self.revoked = False
        self.closing = asyncio.Event()
        #: Called with each request once it is answered or dropped.
        self.listener: Callable[[RecordedRequest], None] | None = None
        self._tokens: dict[str, float] = {}
        self._idempotency: dict[str, _IdempotentCall] = {}
        self._in_flight = 0
        self._window: tuple[int, int] = (0, 0)
        self._auth_window: tuple[int, int] = (0, 0)
        self._signing_key = secrets.token_bytes(32)

    # -- the application -------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(
            middlewares=[self._middleware], client_max_size=CLIENT_MAX_SIZE
        )
        app.router.add_post(_TOKEN_PATH, self._token)
        app.router.add_post("/v1/bulk", self._submit)
        app.router.add_get("/v1/bulk/{bulk_key}", self._get)
        app.router.add_put("/v1/bulk/{bulk_key}/stop", self._stop)
        app.router.add_get("/v1/files/{file_id}", self._file)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=request.headers,
            time=math.nan,
            query=dict(request.query),
            host=request.host,
        )
        self.requests.append(record)
        req_id = request_id()
        _current_request_id.set(req_id)
        try:
            response = await self._answer(request, handler, record, req_id)
        except _Drop:
            self._heard(record)
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPException() from None
        try:
            self._finish(request, response, req_id)
        except Exception:
            # Never a traceback on the wire: whatever broke, Zuora's 500 shape.
            logger.exception("simulator failed on %s %s", request.method, request.path)
            response = error_response(500, req_id)
            response.headers["Zuora-Request-Id"] = req_id
        record.status = response.status
        self._heard(record)
        return response

    def _heard(self, record: RecordedRequest) -> None:
        if self.listener is not None:
            self.listener(record)

    async def _answer(
        self,
        request: web.Request,
        handler: Handler,
        record: RecordedRequest,
        req_id: str,
    ) -> web.StreamResponse:
        """Run the request through limits, faults, auth and idempotency."""
        try:
            record.time = self.clock()
            if not request.path.startswith("/v1/"):
                return await self._with_faults(request, handler, record, req_id)
            if self._in_flight >= self.options.concurrency_limit:
                return error_response(429, req_id, retry_after=1)
            self._in_flight += 1
            try:
                return await self._with_faults(request, handler, record, req_id)
            finally:
                self._in_flight -= 1
        except (_Drop, asyncio.CancelledError):
            raise
        except ConnectionError:
            # The client went away (after its own timeout, say) while the
            # request was read: nobody is left to answer, and nothing failed.
            raise _Drop from None
        except web.HTTPException as exc:
            return self._http_exception(exc, req_id)
        except Exception:
            logger.exception("simulator failed on %s %s", request.method, request.path)
            return error_response(500, req_id)

    async def _with_faults(
        self,
        request: web.Request,
        handler: Handler,
        record: RecordedRequest,
        req_id: str,
    ) -> web.StreamResponse:
        is_api = request.path.startswith("/v1/")
        if is_api and self.options.latency:
            await self._pause(self.options.latency)
        fault = self.faults.take(request.method, request.path)
        record.fault = fault
        answers_now = fault is not None and (
            fault.drop == "before" or (fault.drop is None and fault.status is not None)
        )
        if fault is not None and answers_now:
            await self._pause(fault.delay)
            if fault.drop == "before" or fault.status is None:
                raise _Drop
            return error_response(
                fault.status,
                req_id,
                body=fault.body,
                code=fault.code,
                message=fault.message,
                retry_after=fault.retry_after,
            )

        refusal = self._check_headers(request, req_id)
        if refusal is not None:
            return refusal
        if self._signed(request):
            if "Authorization" in request.headers:
                # Like a pre-signed storage URL: the signature is the only
                # credential, and a second one is refused.
                return error_response(
                    400,
                    req_id,
                    message=(
                        "Only one auth mechanism is allowed: this URL is signed, "
                        "do not send an Authorization header."
                    ),
                )
        elif is_api and not self._authorized(request):
            return error_response(401, req_id)

        key = request.headers.get("Idempotency-Key")
        if key is not None and is_api and request.method in ("POST", "PATCH"):
            response = await self._idempotent(request, handler, key, fault, req_id)
        else:
            response = await self._apply(request, handler, fault)
        if fault is not None and fault.drop == "after":
            raise _Drop
        return response

    async def _apply(
        self, request: web.Request, handler: Handler, fault: Fault | None
    ) -> web.StreamResponse:
        if fault is not None:
            await self._pause(fault.delay)
        return await handler(request)

    async def _idempotent(
        self,
        request: web.Request,
        handler: Handler,
        key: str,
        fault: Fault | None,
        req_id: str,
    ) -> web.StreamResponse:
        """Answer a POST carrying an Idempotency-Key as Zuora does.

        The first request with a key runs and its answer is kept for 24 hours;
        a replay gets that answer, without running again; 409 while the first
        still runs; 422 when the key comes back with another method or URL.
        """
        now = self.clock()
        self._idempotency = {
            k: call
            for k, call in self._idempotency.items()
            if now - call.created < _IDEMPOTENCY_TTL
        }
        previous = self._idempotency.get(key)
        if previous is not None:
            if previous.method != request.method or previous.path != request.path:
                return error_response(422, req_id)
            if previous.in_progress:
                return error_response(409, req_id)
            assert previous.status is not None
            return web.Response(
                status=previous.status,
                body=previous.body,
                content_type=previous.content_type,
                charset="utf-8",
            )
        call = _IdempotentCall(request.method, request.path, now)
        self._idempotency[key] = call
        try:
            response = await self._apply(request, handler, fault)
        except BaseException:
            del self._idempotency[key]
            raise
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            call.status = response.status
            call.body = response.body
            call.content_type = response.content_type
        else:
            del self._idempotency[key]
        return response

    async def _pause(self, seconds: float) -> None:
        """Wait, unless the simulator closes first: then drop the connection."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.closing.wait(), seconds)
        except asyncio.TimeoutError:
            return
        raise _Drop

    def _check_headers(self, request: web.Request, req_id: str) -> web.Response | None:
        track = request.headers.get("Zuora-Track-Id")
        if track is not None:
            try:
                validate_track_id(track)
            except ValueError as exc:
                return error_response(400, req_id, message=f"Zuora-Track-Id: {exc}")
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key) <= _IDEMPOTENCY_KEY_MAX:
            return error_response(
                400,
                req_id,
                message="Idempotency-Key must be 1 to 255 characters long.",
            )
        return None

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        expires = self._tokens.get(token.strip())
        return expires is not None and self.clock() < expires

    def _http_exception(self, exc: web.HTTPException, req_id: str) -> web.Response:
        status = exc.status
        message: str | None
        if status == 405:
            message = "The HTTP method is not supported by this endpoint."
        elif status == 404:
            message = "No such endpoint."
        elif status == 413:
            message = "The request body is larger than the server accepts."
        else:
            message = exc.reason or None
        if status < 400:
            status = 500
        return error_response(status, req_id, message=message)

    def _finish(
        self, request: web.Request, response: web.StreamResponse, req_id: str
    ) -> None:
        headers = response.headers
        headers["Zuora-Request-Id"] = req_id
        track = request.headers.get("Zuora-Track-Id")
        if track is not None:
            headers["Zuora-Track-Id"] = track
        minute = math.floor(self.clock() / 60)
        if request.path == _TOKEN_PATH:
            used = self._count(minute, auth=True)
            headers["X-RateLimit-Limit-minute"] = str(_AUTH_LIMIT_MINUTE)
            headers["X-RateLimit-Remaining-minute"] = str(
                max(0, _AUTH_LIMIT_MINUTE - used)
            )
        else:
            used = self._count(minute, auth=False)
            reset = max(1, math.ceil((minute + 1) * 60 - self.clock()))
            headers["RateLimit-Limit"] = _RATE_LIMIT_HEADER
            headers["RateLimit-Remaining"] = str(max(0, _RATE_LIMIT_MINUTE - used))
            headers["RateLimit-Reset"] = str(reset)
        if request.path.startswith("/v1/"):
            limit = self.options.concurrency_limit
            headers["Concurrency-Limit-Type"] = "Default"
            headers["Concurrency-Limit-Limit"] = str(limit)
            headers["Concurrency-Limit-Remaining"] = str(
                max(0, limit - self._in_flight - 1)
            )
        maybe_gzip(response, request.headers.get("Accept-Encoding", ""))

    def _count(self, minute: int, *, auth: bool) -> int:
        window = self._auth_window if auth else self._window
        used = window[1] + 1 if window[0] == minute else 1
        if auth:
            self._auth_window = (minute, used)
        else:
            self._window = (minute, used)
        return used

    # -- tokens ----------------------------------------------------------------

    def issue_token(self) -> tuple[str, float]:
        token = secrets.token_hex(16)
        self._tokens[token] = self.clock() + self.options.token_ttl
        return token, self.options.token_ttl

    def expire_tokens(self) -> None:
        self._tokens.clear()

    async def _token(self, request: web.Request) -> web.StreamResponse:
        req_id = _current_request_id.get()
        form = await request.post()
        missing = [
            name
            for name in ("client_id", "client_secret", "grant_type")
            if not isinstance(form.get(name), str) or not form.get(name)
        ]
        if missing:
            return error_response(
                400,
                req_id,
                code=code_for(400, 22),
                message=f"Missing required field(s): {', '.join(missing)}.",
            )
        if form["grant_type"] != "client_credentials":
            return error_response(
                400,
                req_id,
                message="grant_type must be client_credentials.",
            )
        if (
            self.revoked
            or not hmac.compare_digest(str(form["client_id"]), self.options.client_id)
            or not hmac.compare_digest(
                str(form["client_secret"]), self.options.client_secret
            )
        ):
            return error_response(401, req_id)
        token, ttl = self.issue_token()
        scope = (
            f"user.{secrets.token_hex(16)} entity.{self.options.client_id} "
            f"service.echo.read tenant.{10_000 + self.options.seed}"
        )
        return json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(ttl) if ttl.is_integer() else ttl,
                "scope": scope,
                "jti": secrets.token_hex(16),
            }
        )

    # -- mass actions ----------------------------------------------------------

    def _refusal(
        self, request: web.Request, category: int, message: str
    ) -> web.Response:
        req_id = _current_request_id.get()
        return json_response(business_failure(code_for(200, category), message, req_id))

    def _action(self, request: web.Request) -> SimulatedAction | None:
        return self.actions.get(request.match_info["bulk_key"])

    async def _get(self, request: web.Request) -> web.StreamResponse:
        action = self._action(request)
        if action is None:
            return self._not_found(request)
        body = action.to_json(self.clock(), self.wall, self.output_url(action))
        return json_response(body)

    def _not_found(self, request: web.Request) -> web.Response:
        key = request.match_info["bulk_key"]
        return self._refusal(request, 40, f"No mass action has the bulk key {key}.")

    async def _stop(self, request: web.Request) -> web.StreamResponse:
        action = self._action(request)
        if action is None:
            return self._not_found(request)
        refused = action.request_stop(self.clock())
        if refused is None:
            return json_response({"success": True})
        if refused.value in ("Stopping", "Stopped"):
            message = f"The mass action is already {refused.value}."
        else:
            message = (
                f"The mass action cannot be stopped because it is {refused.value}; "
                "only a Pending or Processing mass action can be stopped."
            )
        return self._refusal(request, 30, message)

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        if upload is None:
            return self._refusal(request, 22, "The file part is missing.")
        data, filename = _part_bytes(upload)
        params = form.get("params")
        if params is None:
            return self._refusal(request, 22, "The params part is missing.")
        try:
            parsed = json.loads(_part_bytes(params)[0])
        except ValueError:
            return self._refusal(request, 20, "params is not a JSON object.")
        if not isinstance(parsed, dict):
            return self._refusal(request, 20, "params is not a JSON object.")
        unknown = sorted(set(parsed) - {"actionType", "checksum"})
        if unknown:
            return self._refusal(
                request, 21, f"Unknown field(s) in params: {', '.join(unknown)}."
            )
        action_type = parsed.get("actionType")
        if action_type is None:
            return self._refusal(request, 22, "actionType is required.")
        if action_type not in ACTION_TYPES:
            return self._refusal(
                request,
                20,
                f"actionType {action_type!r} is not one of {', '.join(ACTION_TYPES)}.",
            )
        checksum = parsed.get("checksum")
        if checksum is not None:
            if not isinstance(checksum, str) or len(checksum) != 32:
                return self._refusal(
                    request, 20, "checksum must be the 32-character MD5 of the file."
                )
            if checksum.lower() != hashlib.md5(data).hexdigest():
                return self._refusal(
                    request, 20, "The checksum does not match the uploaded file."
                )
        if len(data) > MAX_UPLOAD_BYTES:
            return self._refusal(
                request, 20, "The file size exceeds the limit of 4 MB."
            )
        try:
            records = read_upload(data, filename)
        except UploadError as exc:
            return self._refusal(request, 20, str(exc))
        action = self.add_action(
            action_type=action_type,
            timing=self.options.timing,
            created_at=self.clock(),
            records=records,
            total=len(records.rows),
        )
        return json_response({"bulkKey": action.bulk_key, "success": True})

    def add_action(self, **kwargs: Any) -> SimulatedAction:
        bulk_key = kwargs.pop("bulk_key", None) or self.new_key()
        action = SimulatedAction(
            bulk_key=bulk_key,
            file_id=self.new_key(),
            uploaded_by=_UPLOADED_BY,
            **kwargs,
        )
        self.actions[bulk_key] = action
        self.files[action.file_id] = action
        return action

    def new_key(self) -> str:
        while True:
            key = secrets.token_hex(16)
            if key not in self.actions and key not in self.files:
                return key

    # -- response files --------------------------------------------------------

    def output_url(self, action: SimulatedAction) -> str:
        host = self.options.output_host
        if host is None:
            return f"{self.base_url}/v1/files/{action.file_id}"
        return (
            f"http://{host}:{self.port}/v1/files/{action.file_id}"
            f"?signature={self._signature(action.file_id)}"
        )

    def _signed(self, request: web.Request) -> bool:
        signature = request.query.get("signature")
        file_id = request.match_info.get("file_id")
        if (
            signature is None
            or file_id is None
            or not request.path.startswith("/v1/files/")
        ):
            return False
        return hmac.compare_digest(signature, self._signature(file_id))

    def _signature(self, file_id: str) -> str:
        return hmac.new(self._signing_key, file_id.encode(), "sha256").hexdigest()

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        action = self.files.get(file_id)
        archive = None if action is None else action.response_zip(self.clock())
        if action is None or archive is None:
            req_id = _current_request_id.get()
            return error_response(404, req_id, message=f"No file has the id {file_id}.")
        return web.Response(
            body=archive,
            headers={
                "Content-Type": "application/zip;charset=UTF-8",
                "Content-Disposition": (
                    f'attachment; filename="{action.bulk_key}_response.csv.zip"'
                ),
            },
        )


def _part_bytes(part: str | bytes | bytearray | FileField) -> tuple[bytes, str | None]:
    """The content of a multipart field, and its file name if it was a file."""
    if isinstance(part, FileField):
        return part.file.read(), part.filename
    if isinstance(part, str):
        return part.encode(), None
    return bytes(part), None
