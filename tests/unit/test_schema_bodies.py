"""Bodies generated from Zuora's published schemas are read, or refused with the
SDK's own errors (ProtocolError; APIError for an error body or success false)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from opentelemetry import trace

from aiozuora import APIError, MassAction, ProtocolError, ServerError
from aiozuora._client import _token_from
from aiozuora._mass_actions import MassActions
from aiozuora._responses import RawResponse, api_error, json_object

from ..conftest import shared_file


def schema(name: str) -> dict[str, Any]:
    document = json.loads(shared_file("zuora-openapi-mass-updater.json").read_text())
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


@functools.cache
def bodies(name: str) -> st.SearchStrategy[Any]:
    """The bodies a schema allows; built once, as building it is slow."""
    return from_schema(schema(name))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(data=st.data())
def test_get_mass_update_bodies_parse_or_are_protocol_errors(
    data: st.DataObject,
) -> None:
    body = data.draw(bodies("GETMassUpdateType"))
    try:
        action = MassAction.from_json("k1", body)
    except ProtocolError:
        return
    assert action.raw == body


def body_bytes(body: Any) -> bytes:
    return json.dumps(body).encode()


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(data=st.data(), status=st.sampled_from([400, 401, 403, 404, 409, 422, 429]))
def test_common_responses_as_4xx_bodies_are_api_errors(
    data: st.DataObject, status: int
) -> None:
    body = data.draw(bodies("CommonResponse"))
    error = api_error(RawResponse(status, {}, body_bytes(body)))
    assert isinstance(error, APIError) and error.status == status
    reasons = body.get("reasons") or []
    assert len(error.reasons) == len(reasons)
    if reasons:
        assert error.code == ((reasons[0].get("code") or "").strip() or None)
    assert error.process_id == (body.get("processId") or None)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(data=st.data())
def test_common_responses_on_a_200_are_read_or_refused(data: st.DataObject) -> None:
    body = data.draw(bodies("CommonResponse"))
    try:
        read = json_object(RawResponse(200, {}, body_bytes(body)))
    except APIError as error:
        assert body.get("success") is False
        assert error.status == 200
    else:
        assert read == body and body.get("success", True) is True


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(data=st.data(), status=st.sampled_from([500, 502, 503, 504]))
def test_error_responses_are_server_errors_with_every_reason(
    data: st.DataObject, status: int
) -> None:
    body = data.draw(bodies("ErrorResponse"))
    error = api_error(RawResponse(status, {}, body_bytes(body)))
    assert isinstance(error, ServerError)
    assert len(error.reasons) == len(body.get("reasons") or [])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(data=st.data())
def test_token_responses_give_a_token_or_a_protocol_error(
    data: st.DataObject,
) -> None:
    body = data.draw(bodies("tokenResponse"))
    token = body.get("access_token")
    usable = isinstance(token, str) and bool(re.fullmatch(r"[\x21-\x7e]+", token))
    try:
        secret, lifetime = _token_from(RawResponse(200, {}, body_bytes(body)))
    except ProtocolError:
        assert not usable
        return
    assert usable and secret.reveal() == token
    assert 0 < lifetime < float("inf")


class AnswersWith:
    """The session layer's interface to ``MassActions``, answering every call
    with one body read by the real JSON reader."""

    def __init__(self, body: Any) -> None:
        self.raw = RawResponse(200, {}, body_bytes(body))

    @contextlib.asynccontextmanager
    async def _operation(
        self, name: str, attributes: Any = None
    ) -> AsyncIterator[trace.Span]:
        yield trace.INVALID_SPAN

    async def _call_json(self, method: str, path: str, **options: Any) -> Any:
        return json_object(self.raw)

    async def _download(self, url: str, dest: Any) -> int:
        raise AssertionError("no download here")


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(data=st.data())
def test_upload_answers_give_a_bulk_key_or_a_typed_error(data: st.DataObject) -> None:
    body = data.draw(bodies("POSTMassUpdateResponseType"))
    mass = MassActions(AnswersWith(body))
    try:
        key = asyncio.run(mass.submit(b"Object Key\r\nK1\r\n", "UpdateAccountingCode"))
    except APIError:
        assert body.get("success") is False
    except ProtocolError:
        given = body.get("bulkKey")
        assert not (
            isinstance(given, str) and re.fullmatch(r"[A-Za-z0-9]{1,64}", given)
        )
    else:
        assert key == body["bulkKey"] and body.get("success", True) is True
