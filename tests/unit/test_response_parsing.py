"""Any answer Zuora (or something in between) might send is read or refused.

The session layer reads three kinds of body: an error body (any non-2xx
answer), the JSON object of a 2xx answer, and the token endpoint's answer.
Whatever the body holds, reading it either succeeds or raises the SDK's own
error: ``api_error`` always builds an ``APIError``; a 2xx body is a dict, an
``APIError`` for ``success: false``, or a ``ProtocolError``; a token answer is a
usable bearer token or a ``ProtocolError``. Never another exception.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiozuora import APIError, ProtocolError
from aiozuora._auth import Secret
from aiozuora._client import _token_from
from aiozuora._responses import RawResponse, api_error, json_object

from .test_models import json_values

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities: Python's json writes and reads them
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
error_statuses = st.integers(min_value=400, max_value=599)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "text/html", "text/plain", "", "application/x"]
        ),
        "Zuora-Request-Id": st.text(max_size=40),
        "Retry-After": st.text(max_size=40),
    },
)

# The shapes Zuora documents, with any values in their fields.
reason = st.fixed_dictionaries(
    {}, optional={"code": json_values, "message": json_values}
)
documented_error_bodies = st.one_of(
    st.fixed_dictionaries(
        {"success": json_values, "reasons": st.lists(reason, max_size=3)},
        optional={"processId": json_values, "requestId": json_values},
    ),
    st.fixed_dictionaries({"reasons": st.lists(reason, max_size=3) | json_values}),
    st.fixed_dictionaries({"message": json_values}),
    st.fixed_dictionaries({"code": json_values, "message": json_values}),
)
token_bodies = st.fixed_dictionaries(
    {},
    optional={
        "access_token": json_values | st.text(),
        "expires_in": json_values | st.floats(),
        "token_type": json_values,
        "scope": json_values,
        "jti": json_values,
    },
)


def raw(status: int, body: bytes, headers: dict[str, str] | None = None) -> RawResponse:
    return RawResponse(status, headers or {}, body, track_id="t-1")


def check_error(error: APIError, status: int) -> None:
    assert error.status == status
    assert error.track_id == "t-1"
    assert error.code is None or isinstance(error.code, str)
    assert error.category is None or 0 <= error.category <= 99
    assert error.retry_after is None or 0 <= error.retry_after < math.inf
    assert str(error).startswith(f"HTTP {status}")
    repr(error)


def check_object(response: RawResponse) -> None:
    try:
        data = json_object(response)
    except APIError as error:
        # Only a body that says success false is an APIError on a 2xx.
        parsed = json.loads(response.body)
        assert isinstance(parsed, dict) and parsed.get("success") is False
        check_error(error, response.status)
    except ProtocolError as error:
        assert error.status == response.status
        str(error)
    else:
        assert isinstance(data, dict)
        assert data.get("success", True) is True


def check_token(response: RawResponse) -> None:
    try:
        token, lifetime = _token_from(response)
    except ProtocolError as error:
        # The body may hold a token: it is never quoted.
        assert error.body_excerpt is None
        return
    assert isinstance(token, Secret)
    value = token.reveal()
    assert value and value.isascii() and value.isprintable() and " " not in value
    assert 0 < lifetime < math.inf


# -- error bodies --------------------------------------------------------------


@settings(max_examples=60)
@given(error_statuses, json_like, headers)
def test_any_json_error_body_becomes_an_api_error(
    status: int, value: Any, extra: dict[str, str]
) -> None:
    check_error(api_error(raw(status, json.dumps(value).encode(), extra)), status)


@settings(max_examples=60)
@given(error_statuses, st.binary(max_size=300), headers)
def test_any_bytes_as_an_error_body_become_an_api_error(
    status: int, body: bytes, extra: dict[str, str]
) -> None:
    check_error(api_error(raw(status, body, extra)), status)


@settings(max_examples=60)
@given(error_statuses, documented_error_bodies)
def test_documented_error_shapes_with_any_values_become_api_errors(
    status: int, body: dict[str, Any]
) -> None:
    error = api_error(raw(status, json.dumps(body).encode()))
    check_error(error, status)
    if status >= 500:
        assert error.status == status


# -- 2xx bodies ----------------------------------------------------------------


@settings(max_examples=60)
@given(json_like)
def test_any_json_value_on_a_200_is_an_object_or_a_typed_error(value: Any) -> None:
    check_object(raw(200, json.dumps(value).encode()))


@settings(max_examples=60)
@given(st.binary(max_size=300), headers)
def test_any_bytes_on_a_200_are_an_object_or_a_typed_error(
    body: bytes, extra: dict[str, str]
) -> None:
    check_object(raw(200, body, extra))


@settings(max_examples=60)
@given(documented_error_bodies)
def test_documented_shapes_on_a_200_are_read_or_refused(body: dict[str, Any]) -> None:
    check_object(raw(200, json.dumps(body).encode()))


# -- token answers -------------------------------------------------------------


@settings(max_examples=60)
@given(json_like)
def test_any_json_value_as_a_token_answer_is_a_token_or_a_protocol_error(
    value: Any,
) -> None:
    check_token(raw(200, json.dumps(value).encode()))


@settings(max_examples=60)
@given(token_bodies)
def test_token_shaped_answers_with_any_values(body: dict[str, Any]) -> None:
    check_token(raw(200, json.dumps(body).encode()))


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_token_answer(body: bytes) -> None:
    check_token(raw(200, body))


@pytest.mark.parametrize("token", ["abc def", "abc\r\nX-Injected: 1", "tök", "\t"])
def test_a_token_that_cannot_go_into_a_header_is_refused_without_quoting_it(
    token: str,
) -> None:
    body = json.dumps({"access_token": token, "expires_in": 3599}).encode()
    with pytest.raises(ProtocolError, match="not a bearer token") as caught:
        _token_from(raw(200, body))
    assert token not in str(caught.value)


@pytest.mark.parametrize("lifetime", [None, "3599", -1, 0, True, 1e400, "x"])
def test_an_unusable_lifetime_falls_back_to_an_hour(lifetime: Any) -> None:
    body = json.dumps({"access_token": "abc", "expires_in": lifetime}).encode()
    assert _token_from(raw(200, body))[1] == 3600.0


# -- bodies nested beyond what the parser reads --------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_deeply_nested_json_error_body_is_still_an_api_error() -> None:
    error = api_error(raw(502, DEEP))
    check_error(error, 502)
    assert "not Zuora's JSON" in error.message


def test_deeply_nested_json_on_a_200_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="nested too deeply"):
        json_object(raw(200, DEEP))
    with pytest.raises(ProtocolError, match="nested too deeply"):
        _token_from(raw(200, DEEP))
