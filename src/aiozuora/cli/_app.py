"""The ``aiozuora`` command: click parses, the SDK works, rich renders."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import sys
import traceback
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
    AuthenticationError,
    MassAction,
    MassActionStatus,
    NoResponseFileError,
    PermissionDeniedError,
    PollPolicy,
    ResponseFile,
    RowOutcome,
    StopOutcome,
    TransportError,
    WaitTimeoutError,
    ZuoraClient,
    ZuoraError,
    __version__,
)
from .._mass_actions import _check_idempotency_key as check_idempotency_key
from .._models import validate_bulk_key
from ._config import Connection, Seconds, connection_options, json_option
from ._failures import (
    EXIT_ACTION_FAILED,
    EXIT_BROKEN_PIPE,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliFailure,
    Settings,
    describe,
    exit_code_of,
)
from ._render import (
    action_table,
    echo_json,
    outcome_details,
    outcome_json,
    outcomes_table,
    progress,
    records_text,
    stdout_console,
    summary_table,
)

__all__ = ["cli"]

_LOG_HANDLER = "aiozuora-cli"


def verbosity() -> int:
    """How many -v the command line was given."""
    context = click.get_current_context(silent=True)
    if context is None:
        return 0
    return int(context.find_root().params.get("verbose") or 0)


def run(
    body: Callable[[], Coroutine[Any, Any, int]],
    *,
    connection: Connection | None = None,
) -> None:
    """Run one command's coroutine and end the process with its exit code.

    Every failure becomes one line on stderr: a failure the user can fix with
    the exit code of its kind (a ValueError or TypeError is the SDK refusing
    an argument: a usage error), anything else exit 1 with a pointer to -v,
    which prints the traceback too. Ctrl-C exits 130.
    """
    try:
        code: int = asyncio.run(body())
    except BrokenPipeError:
        # The reader went away (``| head``): nothing is wrong and nothing more
        # can be said. Point stdout at nothing so that the interpreter's final
        # flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        click.echo("aiozuora: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except (CliFailure, ZuoraError, ValueError, TypeError) as error:
        if verbosity() and not isinstance(error, CliFailure):
            traceback.print_exc()
        settings = connection.settings if connection is not None else Settings()
        click.echo(f"aiozuora: {describe(error, settings)}", err=True)
        code = exit_code_of(error)
    except Exception as error:
        if verbosity():
            traceback.print_exc()
        text = str(error).strip().splitlines()
        kind = type(error)
        name = kind.__qualname__
        if kind.__module__ != "builtins":
            name = f"{kind.__module__}.{name}"
        line = f"unexpected {name}" + (f": {text[0]}" if text else "")
        hint = "" if verbosity() else " (run with -v for details)"
        click.echo(f"aiozuora: {line}{hint}", err=True)
        code = EXIT_ACTION_FAILED
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
        type=Seconds(),
        default=DEFAULT_WAIT_TIMEOUT,
        show_default=True,
        help="Seconds to wait for a final state.",
    )(function)


def poll_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--poll-interval",
        type=Seconds(),
        default=None,
        help="Seconds before the first poll (later polls back off from there).",
    )(function)


def idempotency_key_option(value: str | None) -> str | None:
    """The key as given, checked as the SDK checks it, before any setting is."""
    if value is None:
        return None
    try:
        return check_idempotency_key(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def show_action(action: MassAction, as_json: bool) -> None:
    if as_json:
        echo_json(action.to_json())
    else:
        stdout_console().print(action_table(action))


def final_exit_code(action: MassAction) -> int:
    """0, or 1 with a line on stderr when the action Failed."""
    if action.status != MassActionStatus.FAILED:
        return EXIT_OK
    click.echo(
        f"aiozuora: mass action {action.bulk_key} Failed "
        f"({records_text(action)} processed)",
        err=True,
    )
    return EXIT_ACTION_FAILED


async def watch(
    client: ZuoraClient, bulk_key: str, timeout: float, poll: PollPolicy | None
) -> MassAction:
    """Wait for a final state, showing the status and records as polls see them.

    The action is looked up once first, so that a host that cannot be reached,
    refused credentials or an unknown key end the command at once rather than
    after the timeout (polls that fail do not end a wait).
    """
    action = await client.mass_actions.get(bulk_key)
    if action.is_terminal:
        return action
    with progress(bar=False, records=True) as display:
        task = display.add_task(
            f"Waiting for {bulk_key[:8]}…",
            total=None,
            status=str(action.status),
            records=records_text(action),
        )

        def show(state: MassAction) -> None:
            display.update(task, status=str(state.status), records=records_text(state))

        return await client.mass_actions.wait(
            bulk_key, timeout=timeout, poll=poll, on_poll=show
        )


def timeout_json(error: WaitTimeoutError, settings: Settings) -> dict[str, Any]:
    """What ``wait --json`` prints when the wait gives up."""
    last = error.last
    return {
        "bulk_key": error.bulk_key,
        "status": None if last is None else str(last.status),
        "error": describe(error, settings),
        "last": None if last is None else last.to_json(),
    }


async def watch_and_show(
    client: ZuoraClient,
    bulk_key: str,
    timeout: float,
    poll: PollPolicy | None,
    connection: Connection,
    as_json: bool,
) -> int:
    """``watch``, then print the final state; return the exit code it calls for."""
    try:
        action = await watch(client, bulk_key, timeout, poll)
    except WaitTimeoutError as error:
        if as_json:
            echo_json(timeout_json(error, connection.settings))
        raise
    show_action(action, as_json)
    return final_exit_code(action)


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

    Connection settings come from each command's options or from the
    environment: ZUORA_BASE_URL (a URL or an environment name such as
    us-sandbox), ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET (or
    ZUORA_ACCESS_TOKEN instead), ZUORA_ENTITY_IDS, ZUORA_MAX_ATTEMPTS and
    ZUORA_REQUEST_TIMEOUT. Try `aiozuora demo` for a tour against the
    built-in simulator.

    Exit codes: 0 all well, 1 some action failed or could not be stopped,
    2 usage error, 3 authentication or configuration error, 130 interrupted.
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

    run(body, connection=connection)


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

    An action is ok when the stop took: Zuora accepted it (without --wait,
    one request per key and no status read; the action is then Stopping or
    Stopped), or it is Stopping or Stopped (Stopped, with --wait). One that
    had already finished as Completed or Failed is not ok, with or without
    --wait: its status is shown, and the error says there was nothing to
    stop. With --json, each key gets {"bulk_key", "ok", "status", "error"}.

    Exits 0 when every action is ok; otherwise 1 (an action finished first,
    a stop was refused, a wait timed out), 2 for a key Zuora does not know,
    3 when the host cannot be reached or the credentials are refused.
    """
    checked = bulk_keys(keys)

    async def body() -> int:
        async with connection.client() as client:
            refused = await first_look(client, checked[0])
            if refused is not None:
                outcomes = [StopOutcome(key, None, refused) for key in checked]
                return report_outcomes(outcomes, as_json, connection)
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

    run(body, connection=connection)


async def first_look(client: ZuoraClient, bulk_key: str) -> ZuoraError | None:
    """Look at one action before stopping many: a host that cannot be reached
    or refused credentials fail every key alike, so find out once.

    Returns that failure, or None when Zuora answered (an unknown key is left
    for its own outcome to report).
    """
    try:
        await client.mass_actions.get(bulk_key)
    except (TransportError, AuthenticationError, PermissionDeniedError) as error:
        return error
    except ZuoraError:
        return None
    return None


def report_outcomes(
    outcomes: Sequence[StopOutcome], as_json: bool, connection: Connection
) -> int:
    """Print the outcomes of ``stop``; return the exit code they call for."""
    rows = [outcome_json(outcome) for outcome in outcomes]
    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    nothing_worked = not any(row["ok"] for row in rows)
    # Refused credentials, or a Zuora that answered none of the calls, is a
    # setting to fix rather than a property of the actions: say so once.
    config_errors = [
        error
        for error in errors
        if exit_code_of(error) == EXIT_CONFIG
        and (nothing_worked or not isinstance(error, TransportError))
    ]
    if as_json:
        echo_json(rows)
    elif not (config_errors and nothing_worked):
        # A table in which every key failed the same way would only repeat
        # the one line below.
        console = stdout_console()
        console.print(outcomes_table(outcomes))
        for line in outcome_details(outcomes):
            console.print(line, soft_wrap=True, markup=False, highlight=False)

    if config_errors:
        line = describe(config_errors[0], connection.settings)
        click.echo(f"aiozuora: {line}", err=True)
        return EXIT_CONFIG
    if any(exit_code_of(error) == EXIT_USAGE for error in errors):
        return EXIT_USAGE
    if all(row["ok"] for row in rows):
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

    The action is looked up first, so that an unknown key (exit 2), a host
    that cannot be reached or refused credentials (exit 3) fail at once.
    Exits 1 when the action Failed or the wait timed out; with --json, a
    timeout prints {"bulk_key", "status", "error", "last"}.
    """
    (bulk_key,) = bulk_keys([key])

    async def body() -> int:
        async with connection.client() as client:
            return await watch_and_show(
                client,
                bulk_key,
                timeout,
                poll_policy(poll_interval),
                connection,
                as_json,
            )

    run(body, connection=connection)


@cli.command()
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@click.option(
    "--action-type",
    type=click.Choice(MASS_ACTION_TYPES, case_sensitive=False),
    required=True,
    help="What Zuora does with each record of FILE.",
)
@click.option(
    "--idempotency-key",
    default=None,
    callback=lambda ctx, param, value: idempotency_key_option(value),
    help="Idempotency-Key for the upload (one is generated when not given): "
    "printable US-ASCII, at most 255 characters.",
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
    when it Failed or the wait timed out). A file Zuora would refuse (empty,
    a header without records, over 4 MB, a zip that is not one CSV) is a
    usage error (exit 2) and nothing is uploaded.
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
            return await watch_and_show(
                client,
                bulk_key,
                timeout,
                poll_policy(poll_interval),
                connection,
                as_json,
            )

    run(body, connection=connection)


@cli.command()
@click.argument("key")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    default=None,
    help="Write the response file's rows as CSV to this file ('-' for stdout); "
    "a file that cannot be written is a usage error (exit 2).",
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
    if output is not None and str(output) != "-" and not output.parent.is_dir():
        fail(f"cannot write {output}: no directory {output.parent}", EXIT_USAGE)

    async def body() -> int:
        async with connection.client() as client:
            with progress(bar=False) as display:
                display.add_task("Downloading the response file", total=None)
                try:
                    response = await client.mass_actions.response_file(bulk_key)
                except NoResponseFileError as error:
                    # Exit 1; the message says why there is none.
                    if as_json:
                        echo_json(
                            {
                                "bulk_key": bulk_key,
                                "status": str(error.action.status),
                                "error": describe(error),
                            }
                        )
                    raise

        if output is not None:
            try:
                write_csv(response, output)
            except BrokenPipeError:
                raise
            except OSError as error:
                raise CliFailure(
                    f"cannot write {output}: {error.strerror or error}", EXIT_USAGE
                ) from None
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

    run(body, connection=connection)


def show_results(
    summary: Mapping[str, Any], response: ResponseFile, output: Path | None
) -> None:
    rows = {
        "Bulk key": str(summary["bulk_key"]),
        "Succeeded": f"{summary['succeeded']:,}",
        "Failed": f"{summary['failed']:,}",
        "Unprocessed": f"{summary['unprocessed']:,}",
    }
    console = stdout_console()
    console.print(summary_table("Response file", rows))
    if output is not None:
        # On a line of its own, so that a long path is never folded.
        console.print(f"Rows written to {output}", markup=False, soft_wrap=True)

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
