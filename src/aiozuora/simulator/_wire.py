"""Zuora's shapes on the wire: error bodies, codes and common headers."""

from __future__ import annotations

import gzip
import json
import secrets
import uuid
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = [
    "RESOURCE",
    "business_failure",
    "error_response",
    "json_response",
    "maybe_gzip",
    "process_id",
    "request_id",
]

#: Resource code Zuora gives a request whose payload names no object.
RESOURCE = "500000"

_HTML = (
    "<html><head><title>{status} {reason}</title></head><body>"
    "<center><h1>{status} {reason}</h1></center><hr><center>nginx</center>"
    "</body></html>"
)
_DEFAULT_MESSAGES = {
    400: "The request is not valid.",
    401: "Authentication error",
    403: "You do not have permission to perform this operation.",
    404: "The requested resource was not found.",
    405: "The HTTP method is not supported by this endpoint.",
    409: "A request with the same Idempotency-Key is still in progress.",
    413: "The request body is too large.",
    422: "The Idempotency-Key was used with another method or URL.",
    429: "Too many concurrent requests. Retry after a while.",
    500: "An internal error occurred. Please contact Zuora Global Support.",
    502: "Bad gateway.",
    503: "The service is temporarily unavailable. Please retry later.",
    504: "Gateway timeout.",
}
_CATEGORIES = {
    400: 20,
    403: 10,
    404: 40,
    405: 45,
    409: 50,
    413: 20,
    422: 20,
    429: 70,
}
_GZIP_TYPES = frozenset(
    {"application/json", "application/xml", "text/html", "text/csv", "text/plain"}
)
_GZIP_MIN_BYTES = 1000


def request_id() -> str:
    return str(uuid.uuid4())


def process_id() -> str:
    return secrets.token_hex(8).upper()


def code_for(status: int, category: int | None = None) -> str:
    if category is None:
        category = _CATEGORIES.get(status, 60)
    return f"{RESOURCE}{category:02d}"


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def business_failure(code: str | int, message: str, req_id: str) -> dict[str, Any]:
    """Zuora's v1 envelope for a refused call: ``success`` false with reasons."""
    return {
        "success": False,
        "processId": process_id(),
        "requestId": req_id,
        "reasons": [{"code": code, "message": message}],
    }


def error_body(
    status: int, req_id: str, code: str | int | None = None, message: str | None = None
) -> dict[str, Any]:
    """The JSON body Zuora sends with ``status``."""
    text = message or _DEFAULT_MESSAGES.get(status) or f"HTTP {status}"
    if status == 401:
        return {"message": text}
    if status == 403 and code is None:
        return {"code": int(code_for(403)), "message": text}
    if status >= 500:
        return {"reasons": [{"code": code or code_for(status, 60), "message": text}]}
    return business_failure(code or code_for(status), text, req_id)


def error_response(
    status: int,
    req_id: str,
    *,
    body: str = "json",
    code: str | int | None = None,
    message: str | None = None,
    retry_after: float | None = None,
) -> web.Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    if body == "json":
        return json_response(error_body(status, req_id, code, message), status, headers)
    if body == "html":
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        text = _HTML.format(status=status, reason=reason)
        return web.Response(
            status=status, text=text, content_type="text/html", headers=headers
        )
    if body == "empty":
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status, text=body, content_type="text/plain", headers=headers
    )


def accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower()
        if quality.startswith("q=") and quality[2:].strip() in ("0", "0.0", "0.00"):
            return False
        return name.strip().lower() == "gzip"
    return False


def maybe_gzip(response: web.StreamResponse, accept_encoding: str) -> None:
    """Gzip a body as Zuora does: only when asked for and over 1000 bytes."""
    if not isinstance(response, web.Response) or not accepts_gzip(accept_encoding):
        return
    body = response.body
    if not isinstance(body, bytes) or len(body) <= _GZIP_MIN_BYTES:
        return
    if response.content_type not in _GZIP_TYPES:
        return
    response.body = gzip.compress(body)
    response.headers["Content-Encoding"] = "gzip"
