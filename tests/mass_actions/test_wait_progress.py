"""wait(on_poll=...): each state a poll sees, for a progress display."""

from __future__ import annotations

import logging

import pytest

from aiozuora import MassAction, MassActionStatus, PollPolicy, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator

FAST = PollPolicy(initial_interval=0.02, max_interval=0.05)


async def test_on_poll_sees_every_state_up_to_the_final_one(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action(
        "Processing", total=300, processed=0, records_per_second=1_000
    )
    seen: list[MassAction] = []

    final = await client.mass_actions.wait(key, poll=FAST, on_poll=seen.append)

    assert seen[-1] == final
    assert final.status == MassActionStatus.COMPLETED
    polls = [r for r in sim.requests if r.method == "GET" and r.path.endswith(key)]
    assert len(seen) == len(polls) >= 2
    processed = [state.processed_count or 0 for state in seen]
    assert processed == sorted(processed)


async def test_an_async_on_poll_is_awaited_and_a_failed_poll_is_not_told(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=100, records_per_second=1_000)
    sim.inject(Fault(503, times=1, method="GET", path=f"/v1/bulk/{key}"))
    statuses: list[str] = []

    async def record(action: MassAction) -> None:
        statuses.append(str(action.status))

    await client.mass_actions.wait(key, poll=FAST, on_poll=record)

    assert statuses[-1] == "Completed"
    assert client.stats.retries["HTTP 503"] == 1


async def test_an_on_poll_that_raises_does_not_end_the_wait(
    sim: ZuoraSimulator, client: ZuoraClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = sim.seed_action("Processing", total=100, records_per_second=1_000)

    def broken(action: MassAction) -> None:
        raise RuntimeError("display gone")

    with caplog.at_level(logging.ERROR, logger="aiozuora"):
        final = await client.mass_actions.wait(key, poll=FAST, on_poll=broken)

    assert final.status == MassActionStatus.COMPLETED
    assert "on_poll raised for mass action" in caplog.text


async def test_stop_many_of_one_key_logs_key_in_the_singular(
    sim: ZuoraSimulator, client: ZuoraClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = sim.seed_action("Processing", total=10_000)

    with caplog.at_level(logging.INFO, logger="aiozuora"):
        await client.mass_actions.stop_many([key], wait=False)

    assert "stop_many: 1 key, 1 ok, 0 not stopped" in caplog.text
