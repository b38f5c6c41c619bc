"""Parsing of mass-action bodies: every documented shape, and nothing else."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiozuora import MassAction, MassActionStatus, ProtocolError, StopOutcome
from aiozuora._models import validate_bulk_key

KEY = "8a90a0b1c2d3e4f5a6b7c8d9e0f1a2b3"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)

FIELDS = [
    "status",
    "actionType",
    "totalCount",
    "processedCount",
    "successCount",
    "errorCount",
    "inputSize",
    "outputSize",
    "outputType",
    "outputURL",
    "uploadedBy",
    "uploadedOn",
    "startedOn",
    "endedOn",
]
bodies_with_known_fields = st.dictionaries(
    st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)
)


def test_pending_body_from_the_docs() -> None:
    action = MassAction.from_json(
        KEY,
        {
            "actionType": "UpdateAccountingCode",
            "status": "Pending",
            "success": True,
            "inputSize": 2048,
            "uploadedBy": "ops@example.com",
            "uploadedOn": "2024-11-02 09:15:04",
            "totalCount": None,
            "processedCount": None,
            "successCount": None,
            "errorCount": None,
            "outputURL": None,
        },
    )
    assert action.status is MassActionStatus.PENDING
    assert action.total_count is None and action.processed_count is None
    assert action.input_size == 2048
    assert action.uploaded_on == datetime(2024, 11, 2, 9, 15, 4)
    assert action.output_url is None
    assert not action.is_terminal and action.is_stoppable


def test_completed_body_with_counts_as_strings() -> None:
    action = MassAction.from_json(
        KEY,
        {
            "actionType": "ImportFXRate",
            "status": "Completed",
            "totalCount": "120",
            "processedCount": "120",
            "successCount": "117",
            "errorCount": "3",
            "outputType": "(url:.csv.zip)",
            "outputURL": "https://rest.apisandbox.zuora.com/v1/files/2c90",
            "startedOn": "2024-11-02 09:15:06",
            "endedOn": "2024-11-02 09:16:40",
        },
    )
    assert (action.total_count, action.success_count, action.error_count) == (
        120,
        117,
        3,
    )
    assert action.is_terminal and not action.is_stoppable
    assert action.ended_on == datetime(2024, 11, 2, 9, 16, 40)


def test_counts_as_numbers_are_accepted() -> None:
    action = MassAction.from_json(KEY, {"status": "Processing", "errorCount": 1})
    assert action.error_count == 1


def test_unknown_status_is_kept_and_not_terminal() -> None:
    action = MassAction.from_json(KEY, {"status": "Archiving", "newField": 7})
    assert action.status == "Archiving"
    assert not action.is_terminal and not action.is_stoppable
    assert action.raw["newField"] == 7


def test_status_is_matched_without_regard_to_case() -> None:
    assert MassAction.from_json(KEY, {"status": "STOPPED"}).status is (
        MassActionStatus.STOPPED
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ({}, "status"),
        ({"status": "Pending", "totalCount": "ten"}, "totalCount"),
        ({"status": "Pending", "totalCount": True}, "totalCount"),
        ({"status": "Pending", "uploadedOn": "yesterday"}, "uploadedOn"),
        ({"status": "Pending", "outputURL": 5}, "outputURL"),
    ],
)
def test_wrong_shapes_are_protocol_errors_naming_the_field(
    body: Any, words: str
) -> None:
    with pytest.raises(ProtocolError, match=words):
        MassAction.from_json(KEY, body)


def test_to_json_round_trips_the_documented_fields() -> None:
    body = {
        "status": "Stopped",
        "totalCount": "10",
        "processedCount": "4",
        "startedOn": "2024-11-02 09:15:06",
    }
    out = MassAction.from_json(KEY, body).to_json()
    assert out["status"] == "Stopped"
    assert out["processed_count"] == 4
    assert out["started_on"] == "2024-11-02 09:15:06"
    json.dumps(out)


@given(json_values)
def test_any_json_value_parses_or_is_a_protocol_error(value: Any) -> None:
    try:
        action = MassAction.from_json(KEY, value)
    except ProtocolError:
        return
    assert isinstance(action, MassAction)


@given(bodies_with_known_fields)
def test_any_body_of_known_fields_parses_or_is_a_protocol_error(
    body: dict[str, Any],
) -> None:
    try:
        action = MassAction.from_json(KEY, body)
    except ProtocolError:
        return
    assert action.raw == body
    json.dumps(action.to_json())


@pytest.mark.parametrize("key", [KEY, "ABC123", "a" * 64])
def test_bulk_keys_of_letters_and_digits_are_accepted(key: str) -> None:
    assert validate_bulk_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", " ", "a/b", "..", "a.b", "%2e%2e", "abc def", "ключ", "a" * 65, None, 42],
)
def test_other_bulk_keys_are_value_errors(key: Any) -> None:
    with pytest.raises(ValueError, match="bulk key"):
        validate_bulk_key(key)


def test_stop_outcome_is_ok_without_an_error() -> None:
    action = MassAction.from_json(KEY, {"status": "Stopped"})
    assert StopOutcome(KEY, action).ok
    assert not StopOutcome(KEY, action, RuntimeError("x")).ok
