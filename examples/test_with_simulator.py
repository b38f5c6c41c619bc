"""Testing your own code against the simulator, with pytest.

`cancel_batch` stands for code of yours that uses aiozuora. The tests start a
simulator for each test, seed the mass actions they need, switch on faults, and
check both what the code returned and what reached the server.

Run with `pytest examples/test_with_simulator.py`, or `python` this file
(which runs pytest on it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from aiozuora import PollPolicy, RetryPolicy, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator


async def cancel_batch(client: ZuoraClient, bulk_keys: list[str]) -> dict[str, str]:
    """Your code: stop a batch and say what became of each action."""
    outcomes = await client.mass_actions.stop_many(
        bulk_keys, concurrency=5, poll=PollPolicy(initial_interval=0.05)
    )
    report: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.ok and outcome.action is not None:
            report[outcome.bulk_key] = str(outcome.action.status)
        else:
            report[outcome.bulk_key] = f"not stopped: {type(outcome.error).__name__}"
    return report


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[ZuoraSimulator]:
    # Small intervals keep the tests fast.
    async with ZuoraSimulator(
        pending_seconds=0.05, records_per_second=1_000, stopping_seconds=0.05
    ) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def client(sim: ZuoraSimulator) -> AsyncIterator[ZuoraClient]:
    # Millisecond backoff: the retry rules of production, without the waiting.
    fast = RetryPolicy(initial_backoff=0.001, max_backoff=0.01, max_retry_after=0.05)
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        retry=fast,
    ) as zuora:
        yield zuora


@pytest.mark.asyncio
async def test_running_actions_are_stopped(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    keys = [sim.seed_action("Processing", total=5_000) for _ in range(3)]

    report = await cancel_batch(client, keys)

    assert report == {key: "Stopped" for key in keys}


@pytest.mark.asyncio
async def test_server_errors_are_ridden_out(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=5_000)
    # A gateway's HTML error page, twice: retried like any 503.
    sim.inject(Fault(503, body="html", times=2, method="PUT", path="/v1/bulk/*/stop"))

    report = await cancel_batch(client, [key])

    assert report == {key: "Stopped"}
    assert client.stats.retries["HTTP 503"] == 2


@pytest.mark.asyncio
async def test_finished_and_unknown_actions_are_reported(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    done = sim.seed_action("Completed", total=10)
    running = sim.seed_action("Processing", total=5_000)
    unknown = "0" * 32

    report = await cancel_batch(client, [done, running, unknown])

    assert report == {
        done: "Completed",
        running: "Stopped",
        unknown: "not stopped: NotFoundError",
    }
    assert sim.action(done).stop_requests == 1


if __name__ == "__main__":
    import subprocess
    import sys

    # In a fresh interpreter: this one has imported pytest-asyncio already, so
    # pytest could not rewrite its asserts (and would warn that it cannot).
    command = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"]
    raise SystemExit(subprocess.call(command))
