"""Typed views of what Zuora's Mass Updater returns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from ._errors import ProtocolError

__all__ = [
    "MASS_ACTION_TYPES",
    "MassAction",
    "MassActionStatus",
    "RowOutcome",
    "StopOutcome",
    "validate_bulk_key",
]

#: The action types ``POST /v1/bulk`` accepts, spelled as Zuora spells them.
MASS_ACTION_TYPES = (
    "UpdateAccountingCode",
    "CreateRevenueSchedule",
    "UpdateRevenueSchedule",
    "DeleteRevenueSchedule",
    "ImportFXRate",
    "MPU",
)

_BULK_KEY = re.compile(r"[A-Za-z0-9]+")
_BULK_KEY_MAX = 64


def validate_bulk_key(bulk_key: object) -> str:
    """Return ``bulk_key`` if it can be a Zuora bulk key, else raise ValueError.

    Zuora's keys are 32 letters and digits. Anything else (a slash, a dot, a
    percent sign, a space, an empty string) is refused here, so that it never
    reaches a URL.
    """
    if not isinstance(bulk_key, str):
        raise ValueError(
            f"a bulk key must be a string of letters and digits, "
            f"not {type(bulk_key).__name__}"
        )
    if not bulk_key:
        raise ValueError("a bulk key must not be empty")
    if len(bulk_key) > _BULK_KEY_MAX:
        raise ValueError(
            f"a bulk key has at most {_BULK_KEY_MAX} characters (Zuora's have 32); "
            f"this one has {len(bulk_key)}"
        )
    if not _BULK_KEY.fullmatch(bulk_key) or not bulk_key.isascii():
        raise ValueError(
            f"a bulk key is letters and digits only (Zuora's are 32 long); "
            f"got {bulk_key!r}"
        )
    return bulk_key


class MassActionStatus(str, Enum):
    """The states of a mass action, spelled as Zuora spells them."""

    PENDING = "Pending"
    PROCESSING = "Processing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    COMPLETED = "Completed"
    FAILED = "Failed"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_stoppable(self) -> bool:
        return self in (MassActionStatus.PENDING, MassActionStatus.PROCESSING)


_TERMINAL = frozenset(
    {MassActionStatus.STOPPED, MassActionStatus.COMPLETED, MassActionStatus.FAILED}
)
_STATUSES = {status.value.lower(): status for status in MassActionStatus}


class RowOutcome(str, Enum):
    """What happened to one record, from the response file's Success column."""

    SUCCEEDED = "Y"
    FAILED = "N"
    UNPROCESSED = ""

    def __str__(self) -> str:
        return self.name


# Zuora documents "yyyy-MM-dd hh:mm:ss"; an ISO "T" separator is accepted too.
_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _count(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProtocolError(f"mass action field {name} is a boolean: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if text.isdigit():
            return int(text)
    raise ProtocolError(f"mass action field {name} is not a count: {value!r}")


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ProtocolError(f"mass action field {name} is not a string: {value!r}")


def _timestamp(data: Mapping[str, Any], name: str) -> datetime | None:
    value = _text(data, name)
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    for fmt in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    raise ProtocolError(
        f"mass action field {name} is not a time as Zuora writes it "
        f"(yyyy-MM-dd HH:mm:ss): {value!r}"
    )


def _status(data: Mapping[str, Any]) -> MassActionStatus | str:
    value = data.get("status")
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"mass action has no status string: {value!r}")
    return _STATUSES.get(value.strip().lower(), value)


@dataclass(frozen=True)
class MassAction:
    """The state of one mass action, as ``GET /v1/bulk/{bulk-key}`` reports it.

    Counts are ``None`` while Zuora has none (a Pending action). Times are naive:
    Zuora does not say which zone they are in. ``status`` is a
    ``MassActionStatus``, or the plain string for a status this version of
    aiozuora does not know (such a status is not terminal). Every field Zuora
    sent, known or not, is kept in ``raw``.
    """

    bulk_key: str
    status: MassActionStatus | str
    action_type: str | None = None
    total_count: int | None = None
    processed_count: int | None = None
    success_count: int | None = None
    error_count: int | None = None
    input_size: int | None = None
    output_size: int | None = None
    output_type: str | None = None
    output_url: str | None = None
    uploaded_by: str | None = None
    uploaded_on: datetime | None = None
    started_on: datetime | None = None
    ended_on: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """True for Stopped, Completed and Failed: the state will not change."""
        return isinstance(self.status, MassActionStatus) and self.status.is_terminal

    @property
    def is_stoppable(self) -> bool:
        """True for Pending and Processing, the states Zuora accepts a stop in."""
        return isinstance(self.status, MassActionStatus) and self.status.is_stoppable

    @classmethod
    def from_json(cls, bulk_key: str, data: object) -> MassAction:
        """Parse the body of ``GET /v1/bulk/{bulk-key}``.

        Raises ``ProtocolError`` for anything that is not that body's shape.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(
                f"a mass action is a JSON object, not {type(data).__name__}"
            )
        return cls(
            bulk_key=bulk_key,
            status=_status(data),
            action_type=_text(data, "actionType"),
            total_count=_count(data, "totalCount"),
            processed_count=_count(data, "processedCount"),
            success_count=_count(data, "successCount"),
            error_count=_count(data, "errorCount"),
            input_size=_count(data, "inputSize"),
            output_size=_count(data, "outputSize"),
            output_type=_text(data, "outputType"),
            output_url=_text(data, "outputURL") or None,
            uploaded_by=_text(data, "uploadedBy"),
            uploaded_on=_timestamp(data, "uploadedOn"),
            started_on=_timestamp(data, "startedOn"),
            ended_on=_timestamp(data, "endedOn"),
            raw=dict(data),
        )

    def to_json(self) -> dict[str, Any]:
        """The fields as plain JSON values, snake_case, status as Zuora spells it."""

        def when(value: datetime | None) -> str | None:
            return None if value is None else value.strftime(_TIMESTAMP_FORMATS[0])

        return {
            "bulk_key": self.bulk_key,
            "status": str(self.status),
            "action_type": self.action_type,
            "total_count": self.total_count,
            "processed_count": self.processed_count,
            "success_count": self.success_count,
            "error_count": self.error_count,
            "input_size": self.input_size,
            "output_size": self.output_size,
            "output_type": self.output_type,
            "output_url": self.output_url,
            "uploaded_by": self.uploaded_by,
            "uploaded_on": when(self.uploaded_on),
            "started_on": when(self.started_on),
            "ended_on": when(self.ended_on),
        }


@dataclass(frozen=True)
class StopOutcome:
    """What ``stop_many`` did for one bulk key.

    ``action`` is the last state seen (the final one when the call waited);
    ``error`` is why the key was not stopped, if it was not. ``ok`` is true when
    there is no error: the action is Stopping or Stopped, or reached Completed or
    Failed before the stop could land (``action.status`` says which).
    """

    bulk_key: str
    action: MassAction | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
