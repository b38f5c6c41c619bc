"""The state machine of one simulated mass action.

Nothing runs in the background: every answer is computed from the clock at the
moment it is asked for. An action is described by a few instants (created,
started, stop accepted) and rates; its status and counts at any time follow.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .._models import MassActionStatus
from ._files import GROUP_FAILED, Records, build_response_zip, row_error

__all__ = ["ActionSnapshot", "SimulatedAction", "Timing"]

_EPSILON = 1e-9
OUTPUT_TYPE = "(url:.csv.zip)"


@dataclass(frozen=True)
class Timing:
    """How fast one action moves; every value in seconds, or records per second."""

    pending_seconds: float
    records_per_second: float
    stopping_seconds: float
    failure_rate: float


@dataclass(frozen=True)
class ActionSnapshot:
    """What the simulator knows about one mass action at one instant."""

    bulk_key: str
    action_type: str
    status: MassActionStatus
    total: int
    processed: int
    succeeded: int
    failed: int
    stop_requests: int
    stop_accepted: bool
    has_file: bool
    file_id: str
    failure_reason: str | None


def format_time(wall: float) -> str:
    """Zuora's timestamp format, ``yyyy-MM-dd HH:mm:ss``."""
    moment = datetime.fromtimestamp(wall, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class SimulatedAction:
    """One mass action, from upload (or seeding) to its final state."""

    def __init__(
        self,
        *,
        bulk_key: str,
        action_type: str,
        file_id: str,
        timing: Timing,
        created_at: float,
        records: Records | Callable[[], Records],
        total: int,
        uploaded_by: str,
    ) -> None:
        self.bulk_key = bulk_key
        self.action_type = action_type
        self.file_id = file_id
        self.timing = timing
        self.uploaded_by = uploaded_by
        self.total = total
        # Seeded actions make their synthetic records only when first needed.
        self._records = records if isinstance(records, Records) else None
        self._make_records = records
        self.created_at = created_at
        self.started_at = created_at + timing.pending_seconds
        # Processing: `base` records are done at `base_at`, then `rate` a second.
        self.base = 0
        self.base_at = self.started_at
        self.failure_reason = None if self._records is None else self._records.problem
        self.stop_at: float | None = None
        self.stopped_at = math.inf
        self.stop_from: MassActionStatus | None = None
        self.stop_processed = 0
        self.stop_requests = 0
        self._failed_rows: list[int] | None = None
        self._zip: bytes | None = None

    # -- records ---------------------------------------------------------------

    @property
    def records(self) -> Records:
        if self._records is None:
            assert callable(self._make_records)
            self._records = self._make_records()
        return self._records

    @property
    def input_size(self) -> int:
        return self.records.size

    def _failed_indices(self) -> list[int] | None:
        """Rows that fail, when a Group ID column makes failures spread."""
        if self._failed_rows is not None or self._records is None:
            return self._failed_rows
        header = self._records.header
        if "Group ID" not in header:
            return None
        column = header.index("Group ID")
        failed_groups: set[str] = set()
        failed: list[int] = []
        for index, row in enumerate(self._records.rows):
            group = row[column].strip()
            if (group and group in failed_groups) or self._fails(index):
                failed.append(index)
                if group:
                    failed_groups.add(group)
        self._failed_rows = failed
        return failed

    def _fails(self, index: int) -> bool:
        rate = self.timing.failure_rate
        return math.floor((index + 1) * rate + _EPSILON) > math.floor(
            index * rate + _EPSILON
        )

    def failed_among(self, processed: int) -> int:
        """How many of the first ``processed`` records failed."""
        indices = self._failed_indices()
        if indices is not None:
            return bisect.bisect_left(indices, processed)
        return math.floor(processed * self.timing.failure_rate + _EPSILON)

    def row_result(self, index: int) -> tuple[str, str]:
        """The Success and Error Message of one processed record."""
        indices = self._failed_indices()
        if indices is None:
            failed = self._fails(index)
        else:
            position = bisect.bisect_left(indices, index)
            failed = position < len(indices) and indices[position] == index
        if not failed:
            return "Y", ""
        if self._fails(index):
            return "N", row_error(self.action_type)
        return "N", GROUP_FAILED

    # -- the clock -------------------------------------------------------------

    def _progress(self, now: float) -> int:
        if now < self.started_at:
            return 0
        rate = self.timing.records_per_second
        if math.isinf(rate):
            return self.total
        done = self.base + math.floor(max(0.0, now - self.base_at) * rate + _EPSILON)
        return min(self.total, done)

    def _completed_at(self) -> float:
        rate = self.timing.records_per_second
        if self.base >= self.total:
            return max(self.base_at, self.started_at)
        if rate <= 0:
            return math.inf
        return max(self.base_at + (self.total - self.base) / rate, self.started_at)

    def status(self, now: float) -> MassActionStatus:
        if self.failure_reason is not None:
            return (
                MassActionStatus.PENDING
                if now < self.started_at
                else MassActionStatus.FAILED
            )
        if self.stop_at is not None:
            if now < self.stopped_at:
                return MassActionStatus.STOPPING
            return MassActionStatus.STOPPED
        if now < self.started_at:
            return MassActionStatus.PENDING
        if now >= self._completed_at():
            return MassActionStatus.COMPLETED
        return MassActionStatus.PROCESSING

    def processed(self, now: float) -> int:
        if self.failure_reason is not None:
            return 0
        if self.stop_at is not None:
            return self.stop_processed
        return self._progress(now)

    def has_file(self, now: float) -> bool:
        status = self.status(now)
        if status is MassActionStatus.COMPLETED:
            return True
        return (
            status is MassActionStatus.STOPPED
            and self.stop_from is MassActionStatus.PROCESSING
        )

    def ended_at(self, now: float) -> float | None:
        status = self.status(now)
        if status is MassActionStatus.FAILED:
            return self.started_at
        if status is MassActionStatus.STOPPED:
            return self.stopped_at
        if status is MassActionStatus.COMPLETED:
            return self._completed_at()
        return None

    # -- changes ---------------------------------------------------------------

    def request_stop(self, now: float) -> MassActionStatus | None:
        """Apply a stop at ``now``; the status that refused it, or None if accepted."""
        self.stop_requests += 1
        status = self.status(now)
        if not status.is_stoppable:
            return status
        self.stop(now, status, self.processed(now))
        return None

    def stop(
        self,
        at: float,
        status: MassActionStatus,
        processed: int,
        stopped_at: float | None = None,
    ) -> None:
        """Record a stop that landed at ``at`` while the action was ``status``."""
        self.stop_at = at
        self.stop_from = status
        self.stop_processed = processed
        self.stopped_at = (
            at + self.timing.stopping_seconds if stopped_at is None else stopped_at
        )

    # -- views -----------------------------------------------------------------

    def snapshot(self, now: float) -> ActionSnapshot:
        processed = self.processed(now)
        failed = self.failed_among(processed)
        return ActionSnapshot(
            bulk_key=self.bulk_key,
            action_type=self.action_type,
            status=self.status(now),
            total=self.total,
            processed=processed,
            succeeded=processed - failed,
            failed=failed,
            stop_requests=self.stop_requests,
            stop_accepted=self.stop_at is not None,
            has_file=self.has_file(now),
            file_id=self.file_id,
            failure_reason=self.failure_reason,
        )

    def response_zip(self, now: float) -> bytes | None:
        """The zipped response file, once the action has one."""
        if not self.has_file(now):
            return None
        if self._zip is None:
            processed = self.processed(now)
            results = [self.row_result(index) for index in range(processed)]
            self._zip = build_response_zip(
                self.bulk_key,
                self.action_type,
                self.records,
                [outcome for outcome, _ in results],
                [error for _, error in results],
            )
        return self._zip

    def to_json(
        self, now: float, wall: Callable[[float], float], output_url: str
    ) -> dict[str, Any]:
        """The body of ``GET /v1/bulk/{bulk-key}``; absent fields are left out."""
        status = self.status(now)
        body: dict[str, Any] = {
            "actionType": self.action_type,
            "status": status.value,
            "success": True,
            "inputSize": self.input_size,
            "uploadedBy": self.uploaded_by,
            "uploadedOn": format_time(wall(self.created_at)),
        }
        started = status is not MassActionStatus.PENDING and (
            self.stop_from is not MassActionStatus.PENDING
        )
        if status is not MassActionStatus.PENDING:
            processed = self.processed(now)
            failed = self.failed_among(processed)
            body.update(
                totalCount=str(self.total),
                processedCount=str(processed),
                successCount=str(processed - failed),
                errorCount=str(failed),
            )
        if started:
            body["startedOn"] = format_time(wall(self.started_at))
        ended = self.ended_at(now)
        if ended is not None:
            body["endedOn"] = format_time(wall(ended))
        archive = self.response_zip(now)
        if archive is not None:
            body.update(
                outputSize=len(archive),
                outputType=OUTPUT_TYPE,
                outputURL=output_url,
            )
        return body


def new_rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(part) for part in (seed, *parts)))
