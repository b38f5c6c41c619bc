"""response_file against the simulator: downloads, outcomes, and the cases
without a file."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider

from aiozuora import (
    MassActionStatus,
    NoResponseFileError,
    PollPolicy,
    RetryPolicy,
    RowOutcome,
    ServerError,
    ZuoraClient,
)
from aiozuora.simulator import Fault, ZuoraSimulator


async def test_a_stopped_action_file_has_y_n_and_blank_rows(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action(
        "Processing", total=400, processed=150, records_per_second=1, failure_rate=0.2
    )

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)
    result = await client.mass_actions.response_file(action)

    assert action.status is MassActionStatus.STOPPED
    assert len(result) == 400
    assert result.succeeded == action.success_count
    assert result.failed == action.error_count
    assert result.failed > 0
    assert action.processed_count is not None
    assert result.unprocessed == 400 - action.processed_count > 0
    outcomes = [row.outcome for row in result]
    processed = action.processed_count
    assert RowOutcome.UNPROCESSED not in outcomes[:processed]
    assert set(outcomes[processed:]) == {RowOutcome.UNPROCESSED}
    for row in result.rows(RowOutcome.FAILED):
        assert row.error_message
    for row in result.rows(RowOutcome.SUCCEEDED):
        assert row.error_message is None
    first = next(iter(result))
    assert "Success" not in first.values and "Error Message" not in first.values
    assert set(first.values) == set(result.columns)


async def test_a_completed_action_file_by_bulk_key(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Completed", total=60, action_type="CreateRevenueSchedule")

    result = await client.mass_actions.response_file(key)

    assert result.bulk_key == key
    assert result.unprocessed == 0
    assert result.succeeded + result.failed == 60
    assert "Revenue Schedule Number" in result.columns
    for row in result.rows(RowOutcome.SUCCEEDED):
        assert row.values["Revenue Schedule Number"]


async def test_a_stop_from_pending_has_no_file_and_says_why(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Pending", total=10, pending_seconds=60)
    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)
    before = len(sim.requests)

    with pytest.raises(NoResponseFileError) as caught:
        await client.mass_actions.response_file(action)

    assert caught.value.action is action
    assert "stopped before processing started" in str(caught.value)
    assert len(sim.requests) == before


@pytest.mark.parametrize(
    ("status", "wording"),
    [("Failed", "Failed before processing"), ("Processing", "still Processing")],
)
async def test_other_actions_without_a_file(
    sim: ZuoraSimulator, client: ZuoraClient, status: str, wording: str
) -> None:
    key = sim.seed_action(status, total=2000, records_per_second=1)

    with pytest.raises(NoResponseFileError, match=wording):
        await client.mass_actions.response_file(key)


async def test_a_file_on_another_origin_gets_no_authorization(
    fast_retry: RetryPolicy, tracer_provider: TracerProvider
) -> None:
    async with ZuoraSimulator(output_host="localhost") as sim:
        key = sim.seed_action("Completed", total=20)
        async with ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            retry=fast_retry,
            tracer_provider=tracer_provider,
        ) as client:
            action = await client.mass_actions.get(key)
            result = await client.mass_actions.response_file(action)

        assert action.output_url is not None
        assert action.output_url.startswith("http://localhost:")
        assert len(result) == 20
        (download,) = [r for r in sim.requests if r.path.startswith("/v1/files/")]
        assert "Authorization" not in download.headers
        (lookup,) = [r for r in sim.requests if r.path == f"/v1/bulk/{key}"]
        assert lookup.headers["Authorization"].startswith("Bearer ")


async def test_a_failed_download_raises_after_retries(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Completed", total=20)
    action = await client.mass_actions.get(key)
    sim.inject(Fault(500, times=10, path="/v1/files/*"))

    with pytest.raises(ServerError):
        await client.mass_actions.response_file(action)


async def test_a_download_retried_after_a_broken_connection_is_whole(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Completed", total=300)
    action = await client.mass_actions.get(key)
    sim.inject(Fault(drop="before", path="/v1/files/*"))

    result = await client.mass_actions.response_file(action)

    assert len(result) == 300
    assert result.succeeded == action.success_count
