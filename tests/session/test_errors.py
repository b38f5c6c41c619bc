"""Every body shape Zuora answers with becomes the right typed error."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from multidict import CIMultiDict

from aiozuora import (
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    ZuoraClient,
)
from aiozuora._responses import (
    RawResponse,
    api_error,
    error_class,
    json_object,
    parse_retry_after,
)
from aiozuora.simulator import Fault

from .conftest import MakeClient, api_requests


def raw(
    status: int, body: object, content_type: str = "application/json"
) -> RawResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = CIMultiDict({"Content-Type": content_type, "Zuora-Request-Id": "r" * 36})
    return RawResponse(status, headers, data, "track-1")


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {
                "success": False,
                "processId": "9C1E27A4B05D3F68",
                "reasons": [{"code": "58730020", "message": "bad value"}],
            },
            "58730020",
            "bad value",
        ),
        (
            {"success": False, "reasons": [{"code": 53100320, "message": "m"}]},
            "53100320",
            "m",
        ),
        ({"reasons": [{"code": "50000060", "message": "boom"}]}, "50000060", "boom"),
        ({"message": "Authentication error"}, None, "Authentication error"),
        ({"code": 50000010, "message": "no permission"}, "50000010", "no permission"),
        (
            {"Success": False, "Errors": [{"Code": "INVALID_VALUE", "Message": "x"}]},
            "INVALID_VALUE",
            "x",
        ),
        ({"error": "invalid_client", "error_description": "refused"}, None, "refused"),
    ],
)
def test_every_json_shape_is_read(body: object, code: str | None, message: str) -> None:
    error = api_error(raw(400, body))

    assert error.code == code
    assert error.message == message
    assert error.request_id == "r" * 36
    assert error.track_id == "track-1"


def test_the_envelope_fills_process_id_and_every_reason() -> None:
    body = {
        "success": False,
        "processId": "9C1E27A4B05D3F68",
        "requestId": "body-request-id",
        "reasons": [
            {"code": "58730020", "message": "first"},
            {"code": 58730022, "message": "second"},
        ],
    }
    error = api_error(raw(200, body))

    assert isinstance(error, InvalidRequestError)
    assert error.process_id == "9C1E27A4B05D3F68"
    assert [(r.code, r.message) for r in error.reasons] == [
        ("58730020", "first"),
        ("58730022", "second"),
    ]
    assert error.category == 20
    assert str(error).splitlines()[1] == "58730022: second"


@pytest.mark.parametrize(
    ("body", "content_type", "described"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", "HTML page"),
        (b"", "text/plain", "empty body"),
        (b"upstream broke", "text/plain", "not Zuora's JSON"),
        (b"[1, 2]", "application/json", "not Zuora's JSON"),
        (b"{}", "application/json", "no reason given"),
    ],
)
def test_bodies_that_are_not_zuora_json_are_described(
    body: bytes, content_type: str, described: str
) -> None:
    error = api_error(raw(502, body, content_type))

    assert isinstance(error, ServerError)
    assert described in error.message
    assert error.message.startswith("Bad Gateway")


@pytest.mark.parametrize(
    ("status", "category", "cls"),
    [
        (401, None, AuthenticationError),
        (401, 20, AuthenticationError),
        (403, None, PermissionDeniedError),
        (404, 60, NotFoundError),
        (429, None, RateLimitError),
        (500, 40, ServerError),
        (503, None, ServerError),
        (400, None, InvalidRequestError),
        (400, 40, NotFoundError),
        (409, 50, ServerError),
        (200, 11, AuthenticationError),
        (200, 10, PermissionDeniedError),
        (200, 40, NotFoundError),
        (200, 70, RateLimitError),
        (200, 50, ServerError),
        (200, 60, ServerError),
        (200, 61, ServerError),
        (200, 99, ServerError),
        (200, 20, InvalidRequestError),
        (200, 30, InvalidRequestError),
        (200, None, InvalidRequestError),
    ],
)
def test_error_class_by_status_then_category(
    status: int, category: int | None, cls: type[APIError]
) -> None:
    assert error_class(status, category) is cls


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"<html>maintenance</html>", "text/html", "HTML page"),
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b"", "application/json", "empty body"),
        (b'{"success": "yes"}', "application/json", "not a boolean"),
    ],
)
def test_a_200_that_is_not_a_json_object_is_a_protocol_error(
    body: bytes, content_type: str, problem: str
) -> None:
    with pytest.raises(ProtocolError, match=problem) as caught:
        json_object(raw(200, body, content_type))

    assert caught.value.request_id == "r" * 36
    assert caught.value.track_id == "track-1"


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)

    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(later, now=now.timestamp) == pytest.approx(30)
    assert parse_retry_after(earlier, now=now.timestamp) == 0.0
    for unusable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unusable) is None


# Through the simulator.


@pytest.mark.parametrize(
    ("fault", "cls", "message"),
    [
        (Fault(502, body="html"), ServerError, "Bad Gateway (HTML page"),
        (Fault(503, body="empty"), ServerError, "Service Unavailable (empty body)"),
        (Fault(500, body="upstream broke"), ServerError, "not Zuora's JSON"),
        (Fault(404, body="html"), NotFoundError, "Not Found (HTML page"),
    ],
)
async def test_non_json_error_bodies_through_the_wire(
    make_client: MakeClient,
    sim: Any,
    bulk_key: str,
    fault: Fault,
    cls: type[APIError],
    message: str,
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    sim.inject(fault)

    with pytest.raises(cls, match=re.escape(message)) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.status == fault.status


@pytest.mark.parametrize("code", ["53100320", 53100320])
async def test_code_as_string_or_number(
    client: ZuoraClient, sim: Any, bulk_key: str, code: str | int
) -> None:
    sim.inject(Fault(400, code=code, message="Invalid termType"))

    with pytest.raises(InvalidRequestError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    error = caught.value
    assert error.code == "53100320"
    assert error.category == 20
    assert error.message == "Invalid termType"
    assert error.process_id is not None


async def test_the_first_line_names_the_request(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(404))

    with pytest.raises(NotFoundError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    error = caught.value
    sent = api_requests(sim)[-1].headers["Zuora-Track-Id"]
    first = str(error).splitlines()[0]
    assert first.startswith("HTTP 404, code 50000040: ")
    assert error.message in first
    assert f"request_id={error.request_id}" in first
    assert f"track_id={sent}" in first
    assert error.track_id == sent


@pytest.mark.parametrize(
    ("body", "problem"),
    [("html", "HTML page"), ("{not json", "not valid JSON"), ("[1, 2]", "JSON object")],
)
async def test_a_200_that_is_not_zuora_json_is_not_retried(
    client: ZuoraClient, sim: Any, bulk_key: str, body: str, problem: str
) -> None:
    sim.inject(Fault(200, body=body, times=4))

    with pytest.raises(ProtocolError, match=problem) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.status == 200
    assert caught.value.attempts == 1
    assert len(api_requests(sim)) == 1


async def test_a_gzipped_answer_is_read(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    # Zuora gzips only bodies over 1000 bytes when asked to.
    message = "The accounting code is not active. " * 60
    sim.inject(Fault(200, code="50000020", message=message))

    with pytest.raises(InvalidRequestError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.message == message
    (request,) = api_requests(sim)
    assert request.headers["Accept-Encoding"] == "gzip"
    assert len(gzip.compress(message.encode())) < len(message)
