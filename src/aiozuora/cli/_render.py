"""Tables, JSON and progress displays of the command line."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, cast

import click
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import (
    MassAction,
    MassActionNotStoppableError,
    MassActionStatus,
    StopOutcome,
)

__all__ = [
    "action_table",
    "echo_json",
    "outcome_details",
    "outcome_json",
    "outcomes_table",
    "progress",
    "stdout_console",
    "stopped",
]


class _Unpadded(io.TextIOBase):
    """Writes to ``stream`` with the spaces that end a line left off: rich pads
    every table line to the table's width, which is noise in a file or a pipe."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._spaces = ""

    def write(self, text: str) -> int:
        *lines, last = (self._spaces + text).split("\n")
        body = last.rstrip(" ")
        self._spaces = last[len(body) :]
        done = "".join(line.rstrip(" ") + "\n" for line in lines)
        self._stream.write(done + body)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def stdout_console() -> Console:
    """A console on the current stdout.

    On a terminal rich finds the width; elsewhere it takes COLUMNS, or 80.
    Keys never fold (their columns do not wrap), and lines carry no padding.
    """
    terminal = sys.stdout.isatty()
    return Console(
        file=sys.stdout if terminal else cast(IO[str], _Unpadded(sys.stdout)),
        highlight=False,
        soft_wrap=False,
    )


def live_display_wanted() -> bool:
    """Progress displays are drawn only when a person watches the terminal."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress(*, bar: bool, records: bool = False) -> Progress:
    """A progress display on stderr, hidden when stdout is not a terminal.

    With ``records``, each task shows the ``status`` and ``records`` fields it
    is given (a mass action's state while a wait polls it).
    """
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if bar:
        columns += [BarColumn(bar_width=20), MofNCompleteColumn()]
    if records:
        columns.append(TextColumn("{task.fields[status]} {task.fields[records]}"))
    columns.append(TimeElapsedColumn())
    return Progress(
        *columns,
        console=Console(stderr=True),
        transient=True,
        disable=not live_display_wanted(),
    )


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def action_table(action: MassAction) -> Table:
    """One mass action, field by field."""
    table = Table(title=f"Mass action {action.bulk_key}", show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    records = (
        f"{_count(action.processed_count)} of {_count(action.total_count)} processed"
    )
    rows: list[tuple[str, str]] = [
        ("Status", str(action.status)),
        ("Action type", action.action_type or "-"),
        ("Records", records),
        ("Succeeded", _count(action.success_count)),
        ("Failed", _count(action.error_count)),
        ("Uploaded by", action.uploaded_by or "-"),
    ]
    for label, when in (
        ("Uploaded on", action.uploaded_on),
        ("Started on", action.started_on),
        ("Ended on", action.ended_on),
    ):
        rows.append((label, "-" if when is None else f"{when:%Y-%m-%d %H:%M:%S}"))
    rows.append(("Response file", action.output_url or "-"))
    for label, value in rows:
        table.add_row(label, value)
    return table


def records_text(action: MassAction) -> str:
    """``1,200 of 4,000 records``: how far a mass action got."""
    return f"{_count(action.processed_count)} of {_count(action.total_count)} records"


def stopped(outcome: StopOutcome) -> bool:
    """True when the stop took: Zuora accepted it (without --wait no state is
    read then), or the action is Stopping or Stopped."""
    if not outcome.ok:
        return False
    return outcome.action is None or outcome.action.status in (
        MassActionStatus.STOPPING,
        MassActionStatus.STOPPED,
    )


def _state_of(outcome: StopOutcome) -> MassAction | None:
    if outcome.action is not None:
        return outcome.action
    found = getattr(outcome.error, "action", None) or getattr(
        outcome.error, "last", None
    )
    return found if isinstance(found, MassAction) else None


def _error_line(outcome: StopOutcome) -> str | None:
    action = _state_of(outcome)
    finished = action is not None and action.status in (
        MassActionStatus.COMPLETED,
        MassActionStatus.FAILED,
    )
    if finished and (
        outcome.error is None or isinstance(outcome.error, MassActionNotStoppableError)
    ):
        # With --wait the SDK returns such an action as its final state, without
        # --wait it raises; either way the stop found it finished.
        assert action is not None
        return f"it had already finished as {action.status}: there was nothing to stop"
    error = outcome.error
    if error is None:
        return None
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def outcome_json(outcome: StopOutcome) -> dict[str, Any]:
    """``{"bulk_key", "ok", "status", "error"}`` for one key of ``stop``.

    ``ok`` is what the user asked for: the action is Stopping or Stopped. An
    action that had already Completed or Failed is not ok, with or without
    --wait (the SDK's ``StopOutcome.ok`` differs there: ``stop_and_wait``
    counts a final state reached first as a result, not an error).
    """
    action = _state_of(outcome)
    return {
        "bulk_key": outcome.bulk_key,
        "ok": stopped(outcome),
        "status": None if action is None else str(action.status),
        "error": _error_line(outcome),
    }


def outcomes_table(outcomes: Sequence[StopOutcome]) -> Table:
    """A row per key; what a key has to say is in ``outcome_details``."""
    table = Table(title="Stop", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Bulk key", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    for outcome in outcomes:
        row = outcome_json(outcome)
        if row["ok"] and row["status"] is None:
            result = "[green]stop accepted[/]"
        elif row["ok"]:
            result = "[green]stopped[/]"
        elif row["status"] in ("Completed", "Failed"):
            result = "[yellow]not stopped[/]"
        else:
            result = "[red]failed[/]"
        table.add_row(outcome.bulk_key, row["status"] or "-", result)
    return table


def outcome_details(outcomes: Sequence[StopOutcome]) -> list[str]:
    """``KEY: reason`` for each key that has something to say, one line each
    (printed unwrapped: a reason cut in two is harder to read and to grep)."""
    return [
        f"{outcome.bulk_key}: {row['error']}"
        for outcome in outcomes
        if (row := outcome_json(outcome))["error"]
    ]


def summary_table(title: str, rows: Mapping[str, str]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    for label, value in rows.items():
        table.add_row(label, value)
    return table
