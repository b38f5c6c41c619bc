"""``aiozuora demo``: the whole SDK at work against the built-in simulator.

A batch of mass actions in realistic states, faults switched on, every action
stopped concurrently, waited for, its response file read; then a summary of
what happened to each action and which retries rode out which faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column, Table

from .. import (
    MassAction,
    MassActionNotStoppableError,
    MassActionStatus,
    PollPolicy,
    RetryPolicy,
    StopOutcome,
    ZuoraClient,
)
from ..simulator import Fault, ZuoraSimulator
from ._app import cli, run
from ._config import json_option
from ._failures import EXIT_ACTION_FAILED, EXIT_OK
from ._render import echo_json, live_display_wanted, stdout_console
from ._spans import span_json, span_tree

__all__ = ["demo"]


def _simulator() -> ZuoraSimulator:
    # Small intervals so that the whole demo takes a few seconds; the records
    # per second leave the Processing actions far from done when the stops land.
    return ZuoraSimulator(
        pending_seconds=2.0,
        records_per_second=400.0,
        stopping_seconds=0.4,
        failure_rate=0.04,
        seed=42,
    )


_RETRY = RetryPolicy(
    max_attempts=5, initial_backoff=0.05, max_backoff=0.5, deadline=20.0
)
_POLL = PollPolicy(initial_interval=0.2, multiplier=1.5, max_interval=0.6)
_TIMEOUT = 30.0
_CONCURRENCY = 4

# (status, records, records already processed, action type)
_BATCH = (
    ("Pending", 1_200, None, "ImportFXRate"),
    ("Pending", 2_400, None, "UpdateAccountingCode"),
    ("Processing", 4_000, 900, "CreateRevenueSchedule"),
    ("Processing", 6_500, 2_100, "UpdateRevenueSchedule"),
    ("Processing", 9_000, 5_200, "UpdateAccountingCode"),
    ("Processing", 12_000, 3_300, "MPU"),
    ("Completed", 2_500, None, "DeleteRevenueSchedule"),
)

_STOP_PATH = "/v1/bulk/*/stop"
_FAULT_STORIES = (
    "two HTTP 500s on stop",
    "an HTTP 429 with Retry-After: 1 on stop",
    "a connection dropped after a stop was applied",
    "an HTTP 503 on a poll",
)


def inject_faults(sim: ZuoraSimulator, batch: Sequence[DemoAction]) -> None:
    """Switch on the faults the demo rides out, in _FAULT_STORIES' order."""
    sim.inject(Fault(500, times=2, method="PUT", path=_STOP_PATH))
    sim.inject(Fault(429, retry_after=1, times=1, method="PUT", path=_STOP_PATH))
    # aiohttp resends an idempotent request once by itself when the connection
    # closes unanswered, so two drops on one action's stop reach the retry
    # policy; the retried stop then finds the action already stopping.
    dropped = next(a for a in batch if a.seeded_status == "Processing")
    sim.inject(
        Fault(
            None,
            drop="after",
            times=2,
            method="PUT",
            path=f"/v1/bulk/{dropped.bulk_key}/stop",
        )
    )
    sim.inject(Fault(503, times=1, method="GET", path="/v1/bulk/*"))


_RETRY_STORIES = {
    "HTTP 500": "server error: backed off and retried",
    "HTTP 502": "bad gateway: backed off and retried",
    "HTTP 503": "unavailable: backed off and retried",
    "HTTP 504": "gateway timeout: backed off and retried",
    "HTTP 429": "rate limited: waited as Retry-After said",
    "connection error": "answer lost: the retried stop found it already applied",
    "timeout": "no answer in time: retried",
}


@dataclass
class DemoAction:
    """One seeded action and what became of it."""

    bulk_key: str
    action_type: str
    seeded_status: str
    total: int
    outcome: StopOutcome | None = None
    final: MassAction | None = None
    counts: tuple[int, int, int] | None = None
    has_file: bool = False
    track_id: str | None = None

    @property
    def stopped(self) -> bool:
        return self.final is not None and self.final.status == MassActionStatus.STOPPED

    @property
    def expected(self) -> bool:
        """Whether the action ended as the demo means it to."""
        if self.final is None or not self.final.is_terminal or self.outcome is None:
            return False
        if self.seeded_status == "Completed":
            # Nothing to stop: it stays Completed, with every record processed.
            return self.final.status == MassActionStatus.COMPLETED
        return self.outcome.ok and self.stopped

    def to_json(self) -> dict[str, Any]:
        succeeded, failed, unprocessed = self.counts or (None, None, None)
        error = None if self.outcome is None else self.outcome.error
        return {
            "bulk_key": self.bulk_key,
            "action_type": self.action_type,
            "seeded_status": self.seeded_status,
            "status": None if self.final is None else str(self.final.status),
            "ok": None if self.outcome is None else self.outcome.ok,
            "succeeded": succeeded,
            "failed": failed,
            "unprocessed": unprocessed,
            "track_id": self.track_id,
            "error": None if error is None else str(error).splitlines()[0],
        }


@cli.command()
@click.option(
    "--trace",
    is_flag=True,
    help="Also print the span tree of one stop_and_wait (OpenTelemetry SDK).",
)
@json_option
def demo(trace: bool, as_json: bool) -> None:
    """Stop a batch of mass actions on a built-in simulator, faults and all.

    Needs no Zuora account: it starts a local simulator, seeds Pending,
    Processing and Completed actions, switches on faults (HTTP 500s, a 429
    with Retry-After, a dropped connection), stops everything concurrently,
    waits for the final states, reads the response files and prints what
    happened and which retries rode out which faults.
    """
    run(lambda: run_demo(trace=trace, as_json=as_json))


async def run_demo(*, trace: bool, as_json: bool) -> int:
    started = time.monotonic()
    console = stdout_console()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async with _simulator() as sim:
        batch = [
            DemoAction(
                bulk_key=sim.seed_action(
                    status, total=total, processed=processed, action_type=action_type
                ),
                action_type=action_type,
                seeded_status=status,
                total=total,
            )
            for status, total, processed, action_type in _BATCH
        ]
        inject_faults(sim, batch)
        if not as_json:
            introduce(console, sim, batch)

        async with ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            retry=_RETRY,
            tracer_provider=provider if trace else None,
        ) as client:
            await stop_batch(client, sim, batch, console)
            await read_response_files(client, batch)
            retries = Counter(client.stats.retries)
            attempts = client.stats.attempts
            faults_hit = sum(1 for request in sim.requests if request.fault)
            spans: Sequence[ReadableSpan] = ()
            if trace:
                sim.clear_faults()
                spans = await traced_stop_and_wait(client, sim, exporter)
        for action in batch:
            action.track_id = stop_track_id(sim, action.bulk_key)
    provider.shutdown()
    elapsed = time.monotonic() - started

    if as_json:
        echo_json(
            {
                "actions": [action.to_json() for action in batch],
                "faults_injected": faults_hit,
                "retries": dict(retries),
                "attempts": attempts,
                "elapsed_seconds": round(elapsed, 2),
                **({"trace": [span_json(span) for span in spans]} if trace else {}),
            }
        )
    else:
        if live_display_wanted():
            console.print()
        console.print(summary_table(batch))
        console.print()
        console.print(stops_table(batch))
        console.print()
        console.print(retries_table(retries, faults_hit, attempts))
        if trace:
            explain_trace(console, spans)
        console.print(f"Done in {elapsed:.1f} s.")
    return EXIT_OK if all(action.expected for action in batch) else EXIT_ACTION_FAILED


def introduce(
    console: Console, sim: ZuoraSimulator, batch: Sequence[DemoAction]
) -> None:
    console.print(f"[bold]Zuora simulator[/] running at {sim.base_url}")
    seeded = Counter(action.seeded_status for action in batch)
    console.print(
        f"Seeded {len(batch)} mass actions: "
        + ", ".join(f"{count} {status}" for status, count in seeded.items())
    )
    console.print("Faults switched on: " + "; ".join(_FAULT_STORIES))
    console.print(
        f"Stopping all {len(batch)} at once (concurrency {_CONCURRENCY}) and "
        "waiting for their final states...\n"
    )


async def stop_batch(
    client: ZuoraClient,
    sim: ZuoraSimulator,
    batch: Sequence[DemoAction],
    console: Console,
) -> None:
    """stop_many over the batch, with a live view of each action's records."""
    by_key = {action.bulk_key: action for action in batch}
    # About 75 columns wide, so that every part stays legible at 80.
    display = Progress(
        TextColumn("{task.description}", table_column=Column(no_wrap=True)),
        BarColumn(bar_width=16),
        TextColumn(
            "{task.completed:>6,.0f}/{task.total:<6,.0f}",
            table_column=Column(no_wrap=True),
        ),
        TextColumn("{task.fields[status]:<10}", table_column=Column(no_wrap=True)),
        TextColumn("{task.fields[result]}", table_column=Column(no_wrap=True)),
        console=console,
        disable=not live_display_wanted(),
    )
    tasks = {
        action.bulk_key: display.add_task(
            f"{action.bulk_key[:8]}…",
            total=action.total,
            status=action.seeded_status,
            result="",
        )
        for action in batch
    }

    def refresh() -> None:
        for key, task in tasks.items():
            state = sim.action(key)
            display.update(
                task, completed=state.processed or 0, status=str(state.status)
            )

    def record(outcome: StopOutcome) -> None:
        by_key[outcome.bulk_key].outcome = outcome
        display.update(tasks[outcome.bulk_key], result=_result(outcome))

    with display:
        async with refreshing(refresh, enabled=not display.disable):
            outcomes = await client.mass_actions.stop_many(
                [action.bulk_key for action in batch],
                concurrency=_CONCURRENCY,
                wait=True,
                timeout=_TIMEOUT,
                poll=_POLL,
                on_outcome=record,
            )
        refresh()

    for outcome in outcomes:
        action = by_key[outcome.bulk_key]
        action.outcome = outcome
        action.final = outcome.action
        if isinstance(outcome.error, MassActionNotStoppableError):
            action.final = outcome.error.action


def _result(outcome: StopOutcome) -> str:
    status = None if outcome.action is None else outcome.action.status
    if outcome.ok and status == MassActionStatus.STOPPED:
        return "[green]stopped[/]"
    if status in (MassActionStatus.COMPLETED, MassActionStatus.FAILED):
        return "[yellow]not stoppable[/]"
    return "[red]failed[/]" if outcome.error else ""


@contextlib.asynccontextmanager
async def refreshing(
    refresh: Callable[[], None], *, enabled: bool
) -> AsyncIterator[None]:
    """Call ``refresh`` ten times a second while the block runs."""

    async def loop() -> None:
        while True:
            refresh()
            await asyncio.sleep(0.1)

    task = asyncio.ensure_future(loop()) if enabled else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def read_response_files(client: ZuoraClient, batch: Sequence[DemoAction]) -> None:
    """Download every response file at once; count Y, N and blank rows."""

    async def read(action: DemoAction) -> None:
        final = action.final
        if final is None:
            return
        if final.output_url:
            response = await client.mass_actions.response_file(final)
            action.counts = (response.succeeded, response.failed, response.unprocessed)
            action.has_file = True
        elif final.success_count is not None and final.error_count is not None:
            unprocessed = (
                (final.total_count or 0) - final.success_count - final.error_count
            )
            action.counts = (final.success_count, final.error_count, unprocessed)

    await asyncio.gather(*(read(action) for action in batch))


def stop_track_id(sim: ZuoraSimulator, bulk_key: str) -> str | None:
    """The Zuora-Track-Id the simulator saw on the first stop call for a key.

    This is the value Zuora support searches for; the demo reads it from the
    server's side to show what actually went over the wire.
    """
    calls = [request for request in sim.requests if bulk_key in request.path]
    stops = [request for request in calls if request.method == "PUT"]
    for request in stops or calls:
        value = request.headers.get("Zuora-Track-Id")
        if value:
            return str(value)
    return None


async def traced_stop_and_wait(
    client: ZuoraClient, sim: ZuoraSimulator, exporter: InMemorySpanExporter
) -> Sequence[ReadableSpan]:
    """One more action, stopped with one server error on the way, traced."""
    bulk_key = sim.seed_action(
        "Processing", total=3_000, processed=400, action_type="UpdateAccountingCode"
    )
    sim.inject(Fault(500, times=1, method="PUT", path=f"/v1/bulk/{bulk_key}/stop"))
    exporter.clear()
    await client.mass_actions.stop_and_wait(bulk_key, timeout=_TIMEOUT, poll=_POLL)
    return exporter.get_finished_spans()


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def summary_table(batch: Sequence[DemoAction]) -> Table:
    """Each action's final status and records, in 80 columns, numbers whole."""
    table = Table(
        title="Mass actions after the stop",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption=(
            "Records as counted in each action's response file (Success Y, N or "
            "blank). An action stopped before it started processing has no "
            "file: its counts are the ones Zuora reports."
        ),
        caption_justify="left",
    )
    table.add_column("Bulk key", no_wrap=True, min_width=32)
    table.add_column("Status", no_wrap=True, min_width=9)
    table.add_column("Succeeded", justify="right", no_wrap=True, min_width=9)
    table.add_column("Failed", justify="right", no_wrap=True, min_width=6)
    table.add_column("Unprocessed", justify="right", no_wrap=True, min_width=11)
    for action in batch:
        succeeded, failed, unprocessed = action.counts or (None, None, None)
        if action.final is None:
            status = "[red]unknown[/]"
        elif action.stopped:
            status = f"[green]{action.final.status}[/]"
        else:
            status = f"[yellow]{action.final.status}[/]"
        table.add_row(
            action.bulk_key,
            status,
            _count(succeeded),
            _count(failed),
            _count(unprocessed),
        )
    return table


def stops_table(batch: Sequence[DemoAction]) -> Table:
    """The state each stop found, and the Zuora-Track-Id it sent: a table of
    its own, so that the long id squeezes none of the numbers."""
    table = Table(
        title="The stops",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption=(
            "A Completed action has nothing to stop and stays as it is. A "
            "Zuora-Track-Id is {trace id}-{span id} of the stop's operation span; "
            "all share the trace id of the stop_many call, so one search in "
            "Zuora's logs finds the whole batch."
        ),
        caption_justify="left",
    )
    table.add_column("Bulk key", no_wrap=True)
    table.add_column("Was", no_wrap=True)
    table.add_column("Zuora-Track-Id of the stop", no_wrap=True, style="cyan")
    for action in batch:
        table.add_row(
            f"{action.bulk_key[:8]}…", action.seeded_status, action.track_id or "-"
        )
    return table


def retries_table(retries: Counter[str], faults_hit: int, attempts: int) -> Table:
    total = sum(retries.values())
    table = Table(
        title="Retries (client.stats.retries)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption=(
            f"The simulator injected {faults_hit} faults; {total} retries rode "
            f"them out, {attempts} HTTP attempts in all. (aiohttp itself resends "
            "a dropped GET or PUT once before the retry policy sees it.)"
        ),
        caption_justify="left",
    )
    table.add_column("Fault seen", no_wrap=True)
    table.add_column("Retries", justify="right", no_wrap=True)
    table.add_column("What the client did")
    for reason, count in sorted(retries.items()):
        table.add_row(reason, str(count), _RETRY_STORIES.get(reason, "retried"))
    return table


def explain_trace(console: Console, spans: Sequence[ReadableSpan]) -> None:
    console.print(
        "\n[bold]Span tree of one stop_and_wait[/] (OpenTelemetry SDK, in-memory "
        "exporter). Each call's Zuora-Track-Id is the trace id and the span id "
        "of its operation span, so one search for the trace id in Zuora's logs "
        "finds every call:"
    )
    console.print(span_tree(spans))
