"""Tables, JSON and progress displays of the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import MassAction, MassActionStatus, StopOutcome

__all__ = [
    "action_table",
    "echo_json",
    "outcome_json",
    "outcomes_table",
    "progress",
    "stdout_console",
    "stopped",
]


def stdout_console() -> Console:
    """A console on the current stdout; wide enough not to fold keys in pipes."""
    terminal = sys.stdout.isatty()
    return Console(
        file=sys.stdout,
        width=None if terminal else 200,
        highlight=False,
        soft_wrap=False,
    )


def live_display_wanted() -> bool:
    """Progress displays are drawn only when a person watches the terminal."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress(*, bar: bool) -> Progress:
    """A progress display on stderr, hidden when stdout is not a terminal."""
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if bar:
        columns += [BarColumn(), MofNCompleteColumn()]
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


def stopped(outcome: StopOutcome) -> bool:
    """True when the stop took: the action is Stopping or Stopped."""
    return (
        outcome.ok
        and outcome.action is not None
        and outcome.action.status
        in (MassActionStatus.STOPPING, MassActionStatus.STOPPED)
    )


def _error_line(error: BaseException | None) -> str | None:
    if error is None:
        return None
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def outcome_json(outcome: StopOutcome) -> dict[str, Any]:
    """``{"bulk_key", "ok", "status", "error"}`` for one key of ``stop``."""
    action = outcome.action
    if action is None:
        action = getattr(outcome.error, "action", None) or getattr(
            outcome.error, "last", None
        )
    return {
        "bulk_key": outcome.bulk_key,
        "ok": outcome.ok,
        "status": None if action is None else str(action.status),
        "error": _error_line(outcome.error),
    }


def outcomes_table(outcomes: Sequence[StopOutcome]) -> Table:
    table = Table(title="Stop")
    table.add_column("Bulk key", no_wrap=True)
    table.add_column("Status")
    table.add_column("Result")
    table.add_column("Detail", overflow="fold")
    for outcome in outcomes:
        row = outcome_json(outcome)
        detail = row["error"] or ""
        if stopped(outcome):
            result = "[green]stopped[/]"
        elif outcome.ok:
            result = "[yellow]not stopped[/]"
            detail = detail or "it finished before the stop landed"
        else:
            result = "[red]failed[/]"
        table.add_row(outcome.bulk_key, row["status"] or "-", result, detail)
    return table


def summary_table(title: str, rows: Mapping[str, str]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    for label, value in rows.items():
        table.add_row(label, value)
    return table
