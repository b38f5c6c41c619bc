"""Errors say which request they were, in their first line."""

from __future__ import annotations

import pytest

from aiozuora import (
    APIError,
    MassAction,
    MassActionNotStoppableError,
    ProtocolError,
    TransportError,
    WaitTimeoutError,
)
from aiozuora._errors import Reason, category_of


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("53100320", 20),
        (53100320, 20),
        ("90000011", 11),
        (" 50000061 ", 61),
        ("123", None),
        ("abcdefgh", None),
        (None, None),
        (True, None),
    ],
)
def test_category_is_the_last_two_digits_of_an_eight_digit_code(
    code: object, category: int | None
) -> None:
    assert category_of(code) == category  # type: ignore[arg-type]


def test_api_error_first_line_names_status_code_message_and_ids() -> None:
    error = APIError(
        "Invalid value",
        status=200,
        code="53100320",
        reasons=[Reason("53100320", "Invalid value"), Reason("53100321", "More")],
        request_id="1f0c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
        process_id="9C1E27A4B05D3F68",
        track_id="batch-42",
        attempts=3,
    )
    first = str(error).splitlines()[0]
    for part in (
        "HTTP 200",
        "53100320",
        "Invalid value",
        "1f0c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
        "batch-42",
        "3 attempts",
    ):
        assert part in first
    assert "53100321: More" in str(error)
    assert error.category == 20


def test_transport_and_protocol_errors_name_the_track_id() -> None:
    assert "batch-1" in str(
        TransportError("connection reset", method="PUT", url="u", track_id="batch-1")
    )
    text = str(ProtocolError("HTML on a 200", status=200, track_id="t-9"))
    assert "HTTP 200" in text and "t-9" in text


def test_domain_errors_carry_the_action() -> None:
    action = MassAction.from_json("k1", {"status": "Completed"})
    error = MassActionNotStoppableError(action)
    assert error.action is action and "Completed" in str(error)
    timeout = WaitTimeoutError("k1", 2.5, action)
    assert isinstance(timeout, TimeoutError)
    assert timeout.last is action and "2.5" in str(timeout)
