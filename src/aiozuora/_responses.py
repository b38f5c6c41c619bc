"""Turning Zuora's answers into results or typed errors.

Zuora reports failures in several shapes (see ``APIError``): the v1 envelope
``{"success": false, "reasons": [...]}``, a bare ``{"reasons": [...]}`` on a 500,
``{"message": ...}`` from the gateway on a 401, ``{"code": ..., "message": ...}``
on a 403, and HTML, plain text or nothing at all from proxies. Codes come as
strings or as numbers. This module reads all of them; the session layer decides
what to retry.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from ._errors import (
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    Reason,
    ServerError,
    category_of,
)

__all__ = [
    "RawResponse",
    "api_error",
    "check_success",
    "error_class",
    "json_body",
    "json_object",
    "parse_retry_after",
]

_EXCERPT = 200

_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
_BY_CATEGORY: dict[int, type[APIError]] = {
    10: PermissionDeniedError,
    11: AuthenticationError,
    40: NotFoundError,
    50: ServerError,
    60: ServerError,
    61: ServerError,
    70: RateLimitError,
    99: ServerError,
}


@dataclass(frozen=True)
class RawResponse:
    """What one HTTP attempt brought back, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    track_id: str | None = None

    @property
    def request_id(self) -> str | None:
        return self.headers.get("Zuora-Request-Id") or None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))

    def excerpt(self) -> str:
        return self.body[:_EXCERPT].decode("utf-8", errors="replace")


def parse_retry_after(
    value: str | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from a Retry-After header: delta seconds or an HTTP date.

    Decimal seconds are accepted. A date in the past means zero; an unreadable
    value means no hint at all.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now(), 0.0)


def error_class(status: int, category: int | None) -> type[APIError]:
    """The APIError subclass for an HTTP status and a Zuora error category.

    A specific status (401, 403, 404, 429, 5xx) decides; otherwise the category
    does; otherwise any other failure is an InvalidRequestError.
    """
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if category in _BY_CATEGORY:
        return _BY_CATEGORY[category]
    return InvalidRequestError


def _code(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (str, int)):
        return str(value).strip() or None
    return None


def _reasons(data: Mapping[str, Any]) -> list[Reason]:
    """Every ``{code, message}`` Zuora sent, in whichever spelling it used."""
    reasons: list[Reason] = []
    for key in ("reasons", "Errors"):
        entries = data.get(key)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            message = entry.get("message", entry.get("Message"))
            reasons.append(
                Reason(
                    code=_code(entry.get("code", entry.get("Code"))),
                    message=str(message) if message is not None else "",
                )
            )
    if not reasons:
        message = data.get("message", data.get("error_description"))
        code = _code(data.get("code"))
        if message is not None or code is not None:
            reasons.append(Reason(code=code, message=str(message or "")))
        elif isinstance(data.get("error"), str):
            reasons.append(Reason(code=None, message=data["error"]))
    return reasons


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _describe_body(response: RawResponse) -> str:
    if not response.body.strip():
        return "empty body"
    if response.content_type == "text/html" or response.body.lstrip()[:1] == b"<":
        return "HTML page instead of JSON"
    return "body that is not Zuora's JSON"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unexpected status"


def api_error(response: RawResponse, data: object = None) -> APIError:
    """The typed error for a failed answer.

    ``data`` is the decoded JSON body when there is one; without it the body is
    decoded here if it is JSON, and described if it is not (HTML, text, empty).
    """
    if data is None:
        data = _try_json(response.body)
    reasons: list[Reason] = []
    process_id = request_id = None
    if isinstance(data, Mapping):
        reasons = _reasons(data)
        process_id = _text(data.get("processId"))
        request_id = _text(data.get("requestId"))
        if not reasons:
            message = f"{_phrase(response.status)} (no reason given)"
        else:
            message = reasons[0].message or _phrase(response.status)
    else:
        message = f"{_phrase(response.status)} ({_describe_body(response)})"
    code = reasons[0].code if reasons else None
    cls = error_class(response.status, category_of(code))
    return cls(
        message,
        status=response.status,
        code=code,
        reasons=reasons,
        request_id=response.request_id or request_id,
        process_id=process_id,
        track_id=response.track_id,
        retry_after=response.retry_after,
    )


def _try_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def json_body(response: RawResponse, *, excerpt: bool = True) -> Any:
    """The decoded JSON of a 2xx answer, or a ProtocolError if it is not JSON.

    An empty body (a 204, say) is ``None``. ``excerpt=False`` keeps the body out
    of the error, for answers that may carry a secret.
    """
    if not response.body.strip():
        if response.status == 204:
            return None
        raise _protocol_error(response, "empty body where JSON was expected", excerpt)
    if response.content_type == "text/html":
        raise _protocol_error(response, "HTML page where JSON was expected", excerpt)
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise _protocol_error(response, "body is not valid JSON", excerpt) from None
    except RecursionError:
        # Valid JSON, but nested deeper than Python's parser goes: no Zuora
        # answer looks like this.
        raise _protocol_error(
            response, "body is JSON nested too deeply to read", excerpt
        ) from None


def _protocol_error(
    response: RawResponse, message: str, excerpt: bool
) -> ProtocolError:
    return ProtocolError(
        message,
        status=response.status,
        request_id=response.request_id,
        track_id=response.track_id,
        body_excerpt=response.excerpt() if excerpt else None,
    )


def json_object(response: RawResponse) -> dict[str, Any]:
    """The JSON object of a 2xx answer; a ``success: false`` in it is an APIError.

    Anything that is not a JSON object, or a ``success`` that is not a boolean,
    is a ProtocolError.
    """
    data = json_body(response)
    if not isinstance(data, dict):
        raise ProtocolError(
            f"expected a JSON object, got {type(data).__name__}",
            status=response.status,
            request_id=response.request_id,
            track_id=response.track_id,
            body_excerpt=response.excerpt(),
        )
    check_success(response, data)
    return data


def check_success(response: RawResponse, data: object) -> None:
    """Raise the APIError that a ``success: false`` body stands for."""
    if not isinstance(data, Mapping) or "success" not in data:
        return
    success = data["success"]
    if success is True:
        return
    if success is False:
        raise api_error(response, data)
    raise ProtocolError(
        f"field success is not a boolean: {success!r}",
        status=response.status,
        request_id=response.request_id,
        track_id=response.track_id,
    )
