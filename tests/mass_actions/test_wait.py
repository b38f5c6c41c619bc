"""wait and stop_and_wait: every path to a final state, polling under faults,
timeouts and cancellation."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from aiozuora import (
    MassActionStatus,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    ServerError,
    TransportError,
    WaitTimeoutError,
    ZuoraClient,
)
from aiozuora._mass_actions import poll_intervals
from aiozuora.simulator import Fault, ZuoraSimulator

from ..conftest import closed_port
from .conftest import ManualClock, eventually, sdk_tasks

UNKNOWN_KEY = "0123456789abcdef0123456789abcdef"


def gets(sim: ZuoraSimulator, key: str) -> list[float]:
    """When the simulator received each GET of ``key``."""
    return [r.time for r in sim.requests if r.method == "GET" and r.path.endswith(key)]


async def test_wait_returns_completed_with_final_counts(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=200, records_per_second=2000)

    action = await client.mass_actions.wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.COMPLETED
    assert action.processed_count == 200
    assert action.success_count is not None and action.error_count is not None
    assert action.success_count + action.error_count == 200
    assert action.output_url


async def test_wait_on_a_final_action_looks_once(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Failed", total=5)

    action = await client.mass_actions.wait(key, poll=poll)

    assert action.status is MassActionStatus.FAILED
    assert len(gets(sim, key)) == 1


async def test_stop_and_wait_from_processing_ends_stopped(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1, processed=100)

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    assert action.total_count == 2000
    assert action.processed_count is not None
    assert 100 <= action.processed_count < 2000
    assert action.output_url
    assert sim.action(key).stop_requests == 1


async def test_stop_and_wait_from_pending_ends_stopped_without_file(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Pending", total=10, pending_seconds=60)

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    assert action.output_url is None
    assert not sim.action(key).has_file


async def test_stop_and_wait_of_an_action_already_stopping(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Stopping", total=100, processed=40, stopping_seconds=0.05)

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED


async def test_stop_and_wait_of_an_action_already_stopped_polls_no_more(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Stopped", total=100, processed=40)

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    # The refused stop's look-up already showed the final state.
    assert [r.method for r in sim.requests if key in r.path] == ["PUT", "GET"]


async def test_action_completing_just_before_the_stop_is_returned_completed(
    manual_sim: ZuoraSimulator,
    manual_client: ZuoraClient,
    clock: ManualClock,
    poll: PollPolicy,
) -> None:
    key = manual_sim.seed_action("Processing", total=50, processed=45)
    seen = await manual_client.mass_actions.get(key)
    assert seen.status is MassActionStatus.PROCESSING

    clock.advance(5)  # the last records are processed before the stop arrives
    action = await manual_client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.COMPLETED
    assert action.processed_count == 50
    assert manual_sim.action(key).stop_requests == 1
    assert not manual_sim.action(key).stop_accepted


async def test_stop_applied_but_answer_dropped_ends_stopped(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    sim.inject(Fault(drop="after", method="PUT", path="/v1/bulk/*/stop"))

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    assert sim.action(key).stop_accepted
    assert sim.action(key).stop_requests == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(500, times=8, method="GET"),
        Fault(503, body="html", times=8, method="GET"),
        Fault(429, retry_after=0.01, times=8, method="GET"),
        Fault(drop="before", times=8, method="GET"),
        Fault(200, body="html", times=8, method="GET"),
        Fault(200, code="50000061", message="Temporary.", times=8, method="GET"),
    ],
    ids=["500", "503-html", "429", "dropped", "html-200", "category-61"],
)
async def test_a_failed_poll_does_not_end_the_wait(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    fault: Fault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    await client.mass_actions.stop(key)
    sim.inject(fault)

    with caplog.at_level("INFO", logger="aiozuora"):
        action = await client.mass_actions.wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    # More faulty answers than the session layer's attempts at one poll.
    assert fault.hits == 8
    assert any("polling goes on" in r.getMessage() for r in caplog.records)


async def test_retry_after_on_a_failed_poll_is_honoured(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=0.01
    )
    await client.mass_actions.stop(key)
    sim.inject(Fault(429, retry_after=0.3, times=4, method="GET"))
    quick = PollPolicy(initial_interval=0.01, max_interval=0.01, jitter=0)

    action = await client.mass_actions.wait(key, timeout=5, poll=quick)

    assert action.status is MassActionStatus.STOPPED
    times = gets(sim, key)
    assert len(times) == 5
    assert times[4] - times[3] >= 0.29


async def test_a_poll_that_is_refused_for_good_ends_the_wait(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    started = time.monotonic()

    with pytest.raises(NotFoundError):
        await client.mass_actions.wait(UNKNOWN_KEY, timeout=5, poll=poll)

    assert time.monotonic() - started < 1


def test_poll_intervals_grow_to_the_cap() -> None:
    policy = PollPolicy(initial_interval=1, multiplier=2, max_interval=5, jitter=0)

    intervals = poll_intervals(policy)

    assert [next(intervals) for _ in range(6)] == [1, 2, 4, 5, 5, 5]


def test_poll_intervals_are_jittered_within_bounds() -> None:
    policy = PollPolicy(initial_interval=10, multiplier=1, max_interval=10, jitter=0.2)

    values = list(itertools.islice(poll_intervals(policy), 500))

    assert all(8 <= value <= 12 for value in values)
    assert len(set(values)) > 400
    assert min(values) < 8.5 and max(values) > 11.5


async def test_polls_on_the_wire_follow_the_policy(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    policy = PollPolicy(
        initial_interval=0.03, multiplier=2, max_interval=0.12, jitter=0
    )

    with pytest.raises(WaitTimeoutError):
        await client.mass_actions.wait(key, timeout=0.6, poll=policy)

    times = gets(sim, key)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 0.03, 0.06, 0.12, 0.12, ...: never shorter than the policy says, and
    # (on a busy machine) not much longer.
    assert len(gaps) >= 4
    for gap, wanted in zip(gaps, [0.03, 0.06, 0.12, 0.12], strict=False):
        assert wanted - 0.005 <= gap <= wanted + 0.1


async def test_timeout_raises_with_the_last_state_seen(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=10)
    started = time.monotonic()

    with pytest.raises(WaitTimeoutError) as caught:
        await client.mass_actions.wait(key, timeout=0.2, poll=poll)

    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 0.5
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.last is not None
    assert caught.value.last.status is MassActionStatus.PROCESSING
    assert caught.value.bulk_key == key
    assert "last seen Processing" in str(caught.value)


async def test_stop_and_wait_timeout_reports_stopping(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=60
    )

    with pytest.raises(WaitTimeoutError) as caught:
        await client.mass_actions.stop_and_wait(key, timeout=0.2, poll=poll)

    assert caught.value.last is not None
    assert caught.value.last.status is MassActionStatus.STOPPING


async def test_timeout_with_every_poll_failing_has_no_state(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    sim.inject(Fault(500, times=10_000, method="GET"))

    with pytest.raises(WaitTimeoutError) as caught:
        await client.mass_actions.wait(key, timeout=0.2, poll=poll)

    assert caught.value.last is None
    assert "no state seen" in str(caught.value)
    assert isinstance(caught.value.last_error, ServerError)
    assert caught.value.__cause__ is caught.value.last_error
    assert "the latest poll failed: HTTP 500" in str(caught.value)


async def test_a_wait_on_a_host_that_cannot_be_reached_says_why(
    fast_retry: RetryPolicy, poll: PollPolicy
) -> None:
    async with ZuoraClient(
        f"http://127.0.0.1:{closed_port()}", access_token="t", retry=fast_retry
    ) as client:
        with pytest.raises(WaitTimeoutError) as caught:
            await client.mass_actions.wait("k1", timeout=0.2, poll=poll)

    assert caught.value.last is None
    assert isinstance(caught.value.last_error, TransportError)
    assert "the latest poll failed" in str(caught.value)


async def test_a_poll_that_succeeds_again_clears_the_earlier_failure(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    sim.inject(Fault(500, times=4, method="GET"))

    with pytest.raises(WaitTimeoutError) as caught:
        await client.mass_actions.wait(key, timeout=0.3, poll=poll)

    assert caught.value.last is not None
    assert caught.value.last_error is None
    assert "latest poll failed" not in str(caught.value)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True])
async def test_a_bad_timeout_is_refused_before_any_request(
    sim: ZuoraSimulator, client: ZuoraClient, timeout: float
) -> None:
    key = sim.seed_action("Processing", total=10)

    with pytest.raises(ValueError, match="timeout"):
        await client.mass_actions.wait(key, timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        await client.mass_actions.stop_and_wait(key, timeout=timeout)

    assert sim.requests == []


async def test_cancelling_stop_and_wait_returns_promptly_and_cleanly(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    span_exporter: InMemorySpanExporter,
) -> None:
    key = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=60
    )
    task = asyncio.ensure_future(
        client.mass_actions.stop_and_wait(key, timeout=30, poll=poll)
    )
    await eventually(lambda: len(gets(sim, key)) >= 3)

    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.monotonic() - started < 0.5
    assert sdk_tasks() == []
    names = [span.name for span in span_exporter.get_finished_spans()]
    assert "zuora.mass_actions.stop_and_wait" in names
    assert "zuora.mass_actions.wait" in names
    for span in span_exporter.get_finished_spans():
        assert span.status.status_code is not StatusCode.ERROR, span.name


async def test_cancelling_during_a_slow_poll_returns_promptly(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    sim.inject(Fault(None, delay=5, method="GET"))
    task = asyncio.ensure_future(client.mass_actions.wait(key, poll=poll))
    await eventually(lambda: bool(gets(sim, key)))

    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.monotonic() - started < 0.5
    assert sdk_tasks() == []


async def test_an_unknown_status_is_not_final(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = sim.seed_action("Stopping", total=100, processed=40, stopping_seconds=0.1)
    body = '{"success": true, "status": "Archiving", "actionType": "MPU"}'
    sim.inject(Fault(200, body=body, times=2, method="GET"))

    with caplog.at_level("INFO", logger="aiozuora.mass_actions"):
        action = await client.mass_actions.wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    assert f"mass action {key} is Archiving" in caplog.text
