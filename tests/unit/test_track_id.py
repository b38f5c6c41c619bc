"""Zuora's Track-Id rules, checked before any request."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiozuora import track_id
from aiozuora._track_id import current_override, validate_track_id


def zuora_allows(value: str) -> bool:
    """Zuora's rules as its documentation states them, written out independently."""
    return (
        0 < len(value) <= 64
        and all(" " <= c <= "~" for c in value)
        and not any(c in value for c in ":;\"'")
        and value == value.strip(" ")
    )


@given(st.text(max_size=80))
def test_validator_accepts_exactly_what_zuora_allows(value: str) -> None:
    if zuora_allows(value):
        assert validate_track_id(value) == value
    else:
        with pytest.raises(ValueError, match="track id"):
            validate_track_id(value)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_is_judged_by_length_and_forbidden_characters(
    value: str,
) -> None:
    try:
        validate_track_id(value)
    except ValueError:
        assert not zuora_allows(value)
    else:
        assert zuora_allows(value)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "empty"),
        ("x" * 65, "at most 64"),
        ("batch:42", "colon"),
        ("batch;42", "colon, semicolon"),
        ('batch"42', "double quote"),
        ("batch'42", "single quote"),
        ("batch\n42", "control"),
        ("batch\x7f", "US-ASCII"),
        ("bätch", "US-ASCII"),
        (" batch", "space"),
    ],
)
def test_each_broken_rule_is_named(value: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        validate_track_id(value)


def test_override_applies_inside_the_block_only() -> None:
    assert current_override() is None
    with track_id("batch-42"):
        assert current_override() == "batch-42"
        with track_id("inner"):
            assert current_override() == "inner"
        assert current_override() == "batch-42"
    assert current_override() is None


def test_bad_override_is_refused_at_once() -> None:
    with pytest.raises(ValueError), track_id("no:colons"):
        pass
    assert current_override() is None


async def test_override_is_seen_by_tasks_started_inside_and_not_by_others() -> None:
    async def read() -> str | None:
        await asyncio.sleep(0)
        return current_override()

    with track_id("batch-7"):
        inside = asyncio.ensure_future(read())
    outside = asyncio.ensure_future(read())
    assert await inside == "batch-7"
    assert await outside is None
