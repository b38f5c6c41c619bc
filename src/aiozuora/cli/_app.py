"""The ``aiozuora`` command: click parses, the SDK works, rich renders."""

from __future__ import annotations

import asyncio
import csv
import logging
import sys
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from .. import (
    DEFAULT_WAIT_TIMEOUT,
    MASS_ACTION_TYPES,
    MassAction,
    MassActionStatus,
    PollPolicy,
    ResponseFile,
    RowOutcome,
    StopOutcome,
    TransportError,
    ZuoraError,
    __version__,
)
from .._models import validate_bulk_key
from ._config import Connection, connection_options, json_option
from ._failures import (
    EXIT_ACTION_FAILED,
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_USAGE,
    CliFailure,
    describe,
    exit_code_of,
)
from ._render import (
    action_table,
    echo_json,
    outcome_json,
    outcomes_table,
    progress,
    stdout_console,
    stopped,
    summary_table,
)

__all__ = ["cli"]

_LOG_HANDLER = "aiozuora-cli"


def run(
    body: Callable[[], Coroutine[Any, Any, int]], *, base_url: str | None = None
) -> None:
    """Run one command's coroutine and end the process with its exit code.

    A failure of a kind the user can fix becomes one line on stderr and the
    exit code of its kind; anything else is a bug and keeps its traceback.
    """
    try:
        code: int = asyncio.run(body())
    except (CliFailure, ZuoraError) as error:
        click.echo(f"aiozuora: {describe(error, base_url=base_url)}", err=True)
        code = exit_code_of(error)
    click.get_current_context().exit(code)


def fail(message: str, exit_code: int) -> NoReturn:
    """End the command at once with one line on stderr."""
    click.echo(f"aiozuora: {message}", err=True)
    click.get_current_context().exit(exit_code)


def bulk_keys(values: Sequence[str]) -> list[str]:
    """The keys as given, or exit 2 naming the first bad one."""
    keys: list[str] = []
    for value in values:
        try:
            keys.append(validate_bulk_key(value))
        except ValueError as error:
            fail(f"bad bulk key: {error}", EXIT_USAGE)
    return keys


def poll_policy(interval: float | None) -> PollPolicy | None:
    if interval is None:
        return None
    default = PollPolicy()
    return PollPolicy(
        initial_interval=interval,
        max_interval=max(interval, default.max_interval),
    )


def timeout_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_WAIT_TIMEOUT,
        show_default=True,
        help="Seconds to wait for a final state.",
    )(function)


def poll_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--poll-interval",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Seconds before the first poll (later polls back off from there).",
    )(function)


def show_action(action: MassAction, as_json: bool) -> None:
    if as_json:
        echo_json(action.to_json())
    else:
        stdout_console().print(action_table(action))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aiozuora")
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="Log what the SDK does to stderr (-v: retries and state changes, "
    "-vv: every attempt).",
)
def cli(verbose: int) -> None:
    """Stop, watch and inspect Zuora mass actions (Mass Updater).

    Connection settings come from options or from ZUORA_BASE_URL,
    ZUORA_CLIENT_ID, ZUORA_CLIENT_SECRET and ZUORA_ENTITY_IDS. Try
    `aiozuora demo` for a tour against the built-in simulator.

    Exit codes: 0 all well, 1 some action failed or could not be stopped,
    2 usage error, 3 authentication or configuration error.
    """
    configure_logging(verbose)


def configure_logging(verbose: int) -> None:
    """Keep the SDK's log off the terminal unless asked for.

    Without a handler, Python would print the SDK's warnings (a give-up after
    the last retry, say) beside the one line each failure is reported in.
    """
    logger = logging.getLogger("aiozuora")
    for handler in [h for h in logger.handlers if h.get_name() == _LOG_HANDLER]:
        logger.removeHandler(handler)
    if verbose:
        new: logging.Handler = logging.StreamHandler(sys.stderr)
        new.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    else:
        new = logging.NullHandler()
        logger.setLevel(logging.NOTSET)
    new.set_name(_LOG_HANDLER)
    logger.addHandler(new)


@cli.command()
@click.argument("key")
@connection_options
@json_option
def get(key: str, connection: Connection, as_json: bool) -> None:
    """Show the state of the mass action KEY."""
    (bulk_key,) = bulk_keys([key])

    async def body() -> int:
        async with connection.client() as client:
            action = await client.mass_actions.get(bulk_key)
        show_action(action, as_json)
        return EXIT_OK

    run(body, base_url=connection.display_url)


@cli.command()
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Wait until every action reaches its final state.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Mass actions handled at the same time.",
)
@timeout_option
@poll_option
@connection_options
@json_option
def stop(
    keys: tuple[str, ...],
    wait: bool,
    concurrency: int,
    timeout: float,
    poll_interval: float | None,
    connection: Connection,
    as_json: bool,
) -> None:
    """Stop the mass actions KEY... (Pending or Processing ones).

    Exits 1 when any action could not be stopped: it failed, had already
    Completed, or the stop was refused.
    """
    checked = bulk_keys(keys)

    async def body() -> int:
        async with connection.client() as client:
            with progress(bar=True) as display:
                task = display.add_task(
                    "Stopping and waiting" if wait else "Stopping", total=len(checked)
                )

                def advance(outcome: StopOutcome) -> None:
                    display.advance(task)

                outcomes = await client.mass_actions.stop_many(
                    checked,
                    concurrency=concurrency,
                    wait=wait,
                    timeout=timeout,
                    poll=poll_policy(poll_interval),
                    on_outcome=advance,
                )
        return report_outcomes(outcomes, as_json, connection)

    run(body, base_url=connection.display_url)


def report_outcomes(
    outcomes: Sequence[StopOutcome], as_json: bool, connection: Connection
) -> int:
    """Print the outcomes of ``stop``; return the exit code they call for."""
    if as_json:
        echo_json([outcome_json(outcome) for outcome in outcomes])
    else:
        stdout_console().print(outcomes_table(outcomes))

    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    nothing_worked = not any(outcome.ok for outcome in outcomes)
    # Refused credentials, or a Zuora that answered none of the calls, is a
    # setting to fix rather than a property of the actions: say so once.
    config_errors = [
        error
        for error in errors
        if exit_code_of(error) == EXIT_CONFIG
        and (nothing_worked or not isinstance(error, TransportError))
    ]
    if config_errors:
        line = describe(config_errors[0], base_url=connection.display_url)
        click.echo(f"aiozuora: {line}", err=True)
        return EXIT_CONFIG
    if any(exit_code_of(error) == EXIT_USAGE for error in errors):
        return EXIT_USAGE
    if all(stopped(outcome) for outcome in outcomes):
        return EXIT_OK
    return EXIT_ACTION_FAILED


@cli.command()
@click.argument("key")
@timeout_option
@poll_option
@connection_options
@json_option
def wait(
    key: str,
    timeout: float,
    poll_interval: float | None,
    connection: Connection,
    as_json: bool,
) -> None:
    """Wait until the mass action KEY reaches a final state, and show it.

    Exits 1 when the action Failed or the wait timed out.
    """
    (bulk_key,) = bulk_keys([key])

    async def body() -> int:
        async with connection.client() as client:
            with progress(bar=False) as display:
                display.add_task(f"Waiting for {bulk_key}", total=None)
                action = await client.mass_actions.wait(
                    bulk_key, timeout=timeout, poll=poll_policy(poll_interval)
                )
        show_action(action, as_json)
        return EXIT_ACTION_FAILED if action.status == MassActionStatus.FAILED else 0

    run(body, base_url=connection.display_url)


@cli.command()
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@click.option(
    "--action-type",
    type=click.Choice(MASS_ACTION_TYPES),
    required=True,
    help="What Zuora does with each record of FILE.",
)
@click.option(
    "--idempotency-key",
    default=None,
    help="Idempotency-Key for the upload (one is generated when not given).",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Wait until the new action reaches its final state.",
)
@timeout_option
@poll_option
@connection_options
@json_option
def submit(
    file: Path,
    action_type: str,
    idempotency_key: str | None,
    wait: bool,
    timeout: float,
    poll_interval: float | None,
    connection: Connection,
    as_json: bool,
) -> None:
    """Upload FILE (a .csv, or a .zip holding one) as a new mass action.

    Prints the new bulk key, or with --wait the action's final state (exit 1
    when it Failed).
    """

    async def body() -> int:
        async with connection.client() as client:
            bulk_key = await client.mass_actions.submit(
                file, action_type, idempotency_key=idempotency_key
            )
            if not wait:
                if as_json:
                    echo_json({"bulk_key": bulk_key})
                else:
                    click.echo(bulk_key)
                return EXIT_OK
            with progress(bar=False) as display:
                display.add_task(f"Waiting for {bulk_key}", total=None)
                action = await client.mass_actions.wait(
                    bulk_key, timeout=timeout, poll=poll_policy(poll_interval)
                )
        show_action(action, as_json)
        return EXIT_ACTION_FAILED if action.status == MassActionStatus.FAILED else 0

    run(body, base_url=connection.display_url)


@cli.command()
@click.argument("key")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    default=None,
    help="Write the response file's rows as CSV to this file ('-' for stdout).",
)
@connection_options
@json_option
def results(
    key: str, output: Path | None, connection: Connection, as_json: bool
) -> None:
    """Download the response file of the mass action KEY and summarise it.

    Zuora writes a response file once an action is Completed or Stopped; it
    says for every record whether it succeeded (Y), failed (N) or was not
    processed (blank).
    """
    (bulk_key,) = bulk_keys([key])

    async def body() -> int:
        async with connection.client() as client:
            with progress(bar=False) as display:
                display.add_task("Downloading the response file", total=None)
                # NoResponseFileError (exit 1) says why there is none.
                response = await client.mass_actions.response_file(bulk_key)

        if output is not None:
            write_csv(response, output)
        summary = {
            "bulk_key": bulk_key,
            "succeeded": response.succeeded,
            "failed": response.failed,
            "unprocessed": response.unprocessed,
        }
        if as_json:
            if str(output) != "-":
                echo_json(summary)
        elif str(output) != "-":
            show_results(summary, response, output)
        return EXIT_OK

    run(body, base_url=connection.display_url)


def show_results(
    summary: Mapping[str, Any], response: ResponseFile, output: Path | None
) -> None:
    rows = {
        "Bulk key": str(summary["bulk_key"]),
        "Succeeded": f"{summary['succeeded']:,}",
        "Failed": f"{summary['failed']:,}",
        "Unprocessed": f"{summary['unprocessed']:,}",
    }
    if output is not None:
        rows["Written to"] = str(output)
    console = stdout_console()
    console.print(summary_table("Response file", rows))

    reasons = Counter(
        row.error_message or "(no message)" for row in response.rows(RowOutcome.FAILED)
    )
    if reasons:
        table = Table(title="Why records failed", show_edge=False, box=box.SIMPLE)
        table.add_column("Records", justify="right")
        table.add_column("Error Message", overflow="fold")
        top = reasons.most_common(5)
        for message, count in top:
            table.add_row(f"{count:,}", escape(message))
        others = sum(reasons.values()) - sum(count for _, count in top)
        if others:
            table.add_row(f"{others:,}", "(other messages)")
        console.print(table)


def write_csv(response: ResponseFile, output: Path) -> None:
    """Write the records as Zuora's response file has them: the uploaded
    columns, then Success (Y, N or blank) and Error Message."""
    if str(output) == "-":
        _write_rows(response, sys.stdout)
        return
    with output.open("w", newline="", encoding="utf-8") as stream:
        _write_rows(response, stream)


def _write_rows(response: ResponseFile, stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([*response.columns, "Success", "Error Message"])
    for row in response:
        cells = [row.values.get(name, "") for name in response.columns]
        writer.writerow([*cells, row.outcome.value, row.error_message or ""])
