"""``aiozuora simulate``: the simulator in the foreground, for trying things out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal

import click

from ..simulator import ZuoraSimulator
from ._app import cli, run
from ._config import json_option
from ._failures import EXIT_CONFIG, EXIT_OK, EXIT_USAGE, CliFailure

__all__ = ["simulate"]

# A few actions in different states, so that `get`, `stop`, `wait` and
# `results` have something to work on: (status, records, action type).
_SAMPLE_ACTIONS = (
    ("Processing", 20_000, "UpdateAccountingCode"),
    ("Processing", 5_000, "CreateRevenueSchedule"),
    ("Pending", 1_200, "ImportFXRate"),
    ("Completed", 800, "MPU"),
    ("Stopped", 3_000, "UpdateRevenueSchedule"),
)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=0,
    help="Port to listen on (default: any free port).",
)
@click.option("--client-id", default=None, help="Fixed OAuth client id (36 chars).")
@click.option("--client-secret", default=None, help="Fixed OAuth client secret.")
@click.option(
    "--records-per-second",
    type=click.FloatRange(min=0, min_open=True),
    default=100.0,
    show_default=True,
    help="How fast Processing actions advance.",
)
@click.option(
    "--samples/--no-samples",
    default=True,
    show_default=True,
    help="Seed a few mass actions in different states.",
)
@json_option
def simulate(
    host: str,
    port: int,
    client_id: str | None,
    client_secret: str | None,
    records_per_second: float,
    samples: bool,
    as_json: bool,
) -> None:
    """Run a Zuora simulator in the foreground until Ctrl-C.

    It prints its URL and its credentials, ready to export for the other
    commands (and for your own code's tests).
    """

    async def body() -> int:
        try:
            simulator = ZuoraSimulator(
                host=host,
                port=port,
                client_id=client_id,
                client_secret=client_secret,
                records_per_second=records_per_second,
            )
        except ValueError as error:
            raise CliFailure(f"bad option: {error}", EXIT_USAGE) from None
        try:
            await simulator.start()
        except OSError as error:
            raise CliFailure(
                f"cannot listen on {host}:{port} ({error.strerror or error}): "
                "choose another --port",
                EXIT_CONFIG,
            ) from None
        try:
            keys = [
                simulator.seed_action(status, total=total, action_type=action_type)
                for status, total, action_type in (_SAMPLE_ACTIONS if samples else ())
            ]
            announce(simulator, keys, as_json)
            await until_interrupted()
        finally:
            await simulator.close()
        if not as_json:
            click.echo("Simulator stopped.")
        return EXIT_OK

    run(body)


def announce(simulator: ZuoraSimulator, keys: list[str], as_json: bool) -> None:
    if as_json:
        # One line, so that a script can read it before the server stops.
        click.echo(
            json.dumps(
                {
                    "base_url": simulator.base_url,
                    "client_id": simulator.client_id,
                    "client_secret": simulator.client_secret,
                    "bulk_keys": keys,
                }
            )
        )
        return
    click.echo(f"Zuora simulator listening on {simulator.base_url} (Ctrl-C stops it)")
    click.echo("")
    click.echo(f"  export ZUORA_BASE_URL={simulator.base_url}")
    click.echo(f"  export ZUORA_CLIENT_ID={simulator.client_id}")
    click.echo(f"  export ZUORA_CLIENT_SECRET={simulator.client_secret}")
    if keys:
        click.echo("")
        click.echo("Mass actions to try (aiozuora get KEY, stop KEY, results KEY):")
        for key in keys:
            state = simulator.action(key)
            click.echo(f"  {key}  {state.status!s:<11} {state.total:>6,} records")
    click.echo("", nl=True)


async def until_interrupted() -> None:
    """Return on SIGINT or SIGTERM, so that the simulator closes cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Signal handlers exist only in the main thread, and not on Windows;
        # elsewhere Ctrl-C arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
