"""Policies refuse values that make no sense, saying which and what is allowed."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from aiozuora import PollPolicy, RetryPolicy


def test_defaults_are_the_documented_ones() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_attempts=4,
        initial_backoff=0.5,
        max_backoff=20.0,
        deadline=120.0,
        max_retry_after=60.0,
    )
    assert PollPolicy() == PollPolicy(
        initial_interval=1.0, multiplier=1.5, max_interval=15.0, jitter=0.1
    )


def test_policies_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_attempts = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        PollPolicy().jitter = 0.5  # type: ignore[misc]


def test_one_attempt_turns_retrying_off() -> None:
    assert RetryPolicy(max_attempts=1).max_attempts == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"initial_backoff": -1}, "initial_backoff"),
        ({"max_backoff": math.inf}, "max_backoff"),
        ({"deadline": 0}, "deadline"),
        ({"max_retry_after": math.nan}, "max_retry_after"),
        ({"initial_backoff": 5, "max_backoff": 1}, "max_backoff"),
    ],
)
def test_bad_retry_values_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial_interval": 0}, "initial_interval"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"max_interval": 0.5}, "max_interval"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
    ],
)
def test_bad_poll_values_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PollPolicy(**kwargs)
