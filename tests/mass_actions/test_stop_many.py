"""stop_many: order, duplicates, isolation of failures, bounded concurrency,
progress callbacks, faults at scale, and cancellation."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from aiozuora import (
    MassActionNotStoppableError,
    MassActionStatus,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    StopOutcome,
    WaitTimeoutError,
    ZuoraClient,
    ZuoraError,
)
from aiozuora.simulator import Fault, ZuoraSimulator

from .conftest import eventually, sdk_tasks

UNKNOWN_KEY = "0123456789abcdef0123456789abcdef"


def puts(sim: ZuoraSimulator) -> Counter[str]:
    return Counter(r.path.split("/")[3] for r in sim.requests if r.method == "PUT")


def max_overlap(spans: list[ReadableSpan]) -> int:
    events = []
    for span in spans:
        assert span.start_time is not None and span.end_time is not None
        events += [(span.start_time, 1), (span.end_time, -1)]
    running = peak = 0
    for _, step in sorted(events):
        running += step
        peak = max(peak, running)
    return peak


async def test_outcomes_in_input_order_with_duplicates_and_bad_keys(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    processing = sim.seed_action("Processing", total=2000, records_per_second=1)
    pending = sim.seed_action("Pending", total=10, pending_seconds=60)
    completed = sim.seed_action("Completed", total=10)
    stopped = sim.seed_action("Stopped", total=10, processed=3)
    keys = [
        processing,
        "not/a/key",
        pending,
        completed,
        processing,
        UNKNOWN_KEY,
        stopped,
    ]

    outcomes = await client.mass_actions.stop_many(keys, timeout=5, poll=poll)

    assert [o.bulk_key for o in outcomes] == keys
    by_position = dict(enumerate(outcomes))
    assert by_position[0].ok and by_position[0].action is not None
    assert by_position[0].action.status is MassActionStatus.STOPPED
    assert by_position[4] is by_position[0]
    assert isinstance(by_position[1].error, ValueError)
    assert by_position[1].action is None
    assert by_position[2].ok and by_position[2].action is not None
    assert by_position[2].action.status is MassActionStatus.STOPPED
    assert by_position[2].action.output_url is None
    # Finished before the stop: not a failure, and the final state says so.
    assert by_position[3].ok and by_position[3].action is not None
    assert by_position[3].action.status is MassActionStatus.COMPLETED
    assert isinstance(by_position[5].error, NotFoundError)
    assert by_position[6].ok and by_position[6].action is not None
    assert by_position[6].action.status is MassActionStatus.STOPPED

    assert puts(sim)[processing] == 1
    assert "not" not in puts(sim)


async def test_without_wait_stop_semantics_apply(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    processing = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=60
    )
    completed = sim.seed_action("Completed", total=10)
    stopped = sim.seed_action("Stopped", total=10, processed=3)

    outcomes = await client.mass_actions.stop_many(
        [processing, completed, stopped], wait=False
    )

    first, second, third = outcomes
    # Accepted: no state was read, one request for the key.
    assert first.ok and first.action is None and first.error is None
    assert sim.action(processing).status is MassActionStatus.STOPPING
    assert [r.method for r in sim.requests if processing in r.path] == ["PUT"]
    assert not second.ok
    assert isinstance(second.error, MassActionNotStoppableError)
    assert second.action is not None
    assert second.action.status is MassActionStatus.COMPLETED
    assert third.ok and third.action is not None
    assert third.action.status is MassActionStatus.STOPPED


async def test_a_timeout_is_one_key_outcome_with_its_last_state(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    slow = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=60
    )
    quick = sim.seed_action("Processing", total=2000, records_per_second=1)

    outcomes = await client.mass_actions.stop_many(
        [slow, quick], timeout=0.6, poll=poll
    )

    assert isinstance(outcomes[0].error, WaitTimeoutError)
    assert outcomes[0].action is not None
    assert outcomes[0].action.status is MassActionStatus.STOPPING
    assert outcomes[1].ok


async def test_concurrency_is_bounded(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    span_exporter: InMemorySpanExporter,
) -> None:
    keys = [
        sim.seed_action("Processing", total=2000, records_per_second=1)
        for _ in range(24)
    ]

    outcomes = await client.mass_actions.stop_many(
        keys, concurrency=5, timeout=5, poll=poll
    )

    assert all(o.ok for o in outcomes)
    per_key = [
        s
        for s in span_exporter.get_finished_spans()
        if s.name == "zuora.mass_actions.stop_and_wait"
    ]
    assert len(per_key) == 24
    assert 2 <= max_overlap(per_key) <= 5


async def test_on_outcome_sees_every_position_sync_or_async(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    other = sim.seed_action("Completed", total=5)
    seen: list[str] = []
    awaited: list[str] = []

    def record(outcome: StopOutcome) -> None:
        seen.append(outcome.bulk_key)

    async def record_later(outcome: StopOutcome) -> None:
        await asyncio.sleep(0)
        awaited.append(outcome.bulk_key)

    keys = [key, "bad key", key, other]
    await client.mass_actions.stop_many(keys, poll=poll, on_outcome=record)
    await client.mass_actions.stop_many(keys, poll=poll, on_outcome=record_later)

    assert sorted(seen) == sorted(keys)
    assert sorted(awaited) == sorted(keys)
    assert seen[0] == "bad key"  # known at once, before any request


async def test_a_failing_callback_is_logged_not_raised(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)

    def explode(outcome: StopOutcome) -> None:
        raise RuntimeError("progress bar broke")

    outcomes = await client.mass_actions.stop_many([key], poll=poll, on_outcome=explode)

    assert outcomes[0].ok
    assert "on_outcome raised" in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2.5}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -3}, "timeout"),
    ],
)
async def test_bad_options_are_refused_before_any_request(
    sim: ZuoraSimulator, client: ZuoraClient, options: dict[str, object], message: str
) -> None:
    key = sim.seed_action("Processing", total=10)

    with pytest.raises(ValueError, match=message):
        await client.mass_actions.stop_many([key], **options)  # type: ignore[arg-type]

    assert sim.requests == []


async def test_a_single_string_is_not_taken_for_many_keys(client: ZuoraClient) -> None:
    with pytest.raises(TypeError, match="not a string"):
        await client.mass_actions.stop_many("0123456789abcdef0123456789abcdef")


async def test_no_keys_gives_no_outcomes(client: ZuoraClient) -> None:
    assert await client.mass_actions.stop_many([]) == []


async def test_two_hundred_keys_through_500s_and_429s(
    tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> None:
    patient = RetryPolicy(
        max_attempts=8, initial_backoff=0.001, max_backoff=0.005, max_retry_after=0.01
    )
    # Zuora takes 0.02 s to stop: most keys need one poll.
    poll = PollPolicy(initial_interval=0.03, max_interval=0.05)
    async with ZuoraSimulator(
        pending_seconds=0.05,
        records_per_second=2000.0,
        stopping_seconds=0.02,
        concurrency_limit=25,
    ) as sim:
        statuses = ["Processing"] * 170 + ["Pending"] * 20 + ["Completed"] * 10
        keys = [
            sim.seed_action(status, total=100, records_per_second=1, pending_seconds=60)
            for status in statuses
        ]
        # A 500 without a Zuora code is retried like any 500; one with
        # category 60 only once, so some polls fail and their waits go on.
        sim.inject(Fault(500, body="html", times=60, method="PUT"))
        sim.inject(Fault(500, times=40, method="GET"))
        sim.inject(Fault(429, retry_after=0.01, times=60, method="GET"))
        sim.inject(Fault(503, body="html", times=30))

        async with ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            retry=patient,
            tracer_provider=tracer_provider,
        ) as client:
            outcomes = await client.mass_actions.stop_many(
                keys, concurrency=40, timeout=20, poll=poll
            )

        assert [o.bulk_key for o in outcomes] == keys
        failures = [o for o in outcomes if not o.ok]
        assert failures == [], failures[:3]
        for key, status, outcome in zip(keys, statuses, outcomes, strict=True):
            assert outcome.action is not None
            final = outcome.action.status
            expected = "Completed" if status == "Completed" else "Stopped"
            assert final == MassActionStatus(expected)
            assert sim.action(key).status == final
            assert sim.action(key).stop_requests >= 1
        # One token for the whole batch.
        assert sum(r.path == "/oauth/token" for r in sim.requests) == 1
        hit = Counter(r.status for r in sim.requests)
        assert hit[500] == 100 and hit[429] >= 60 and hit[503] == 30

    root = [
        s
        for s in span_exporter.get_finished_spans()
        if s.name == "zuora.mass_actions.stop_many"
    ]
    assert len(root) == 1
    trace_id = root[0].context.trace_id
    assert all(
        s.context.trace_id == trace_id for s in span_exporter.get_finished_spans()
    )


async def test_outcomes_account_for_every_key_when_retries_run_out(
    sim: ZuoraSimulator, client: ZuoraClient, poll: PollPolicy
) -> None:
    keys = [
        sim.seed_action("Processing", total=2000, records_per_second=1)
        for _ in range(30)
    ]
    sim.inject(Fault(500, times=40, method="PUT"))

    outcomes = await client.mass_actions.stop_many(
        keys, concurrency=10, timeout=5, poll=poll
    )

    assert len(outcomes) == 30
    for key, outcome in zip(keys, outcomes, strict=True):
        if outcome.ok:
            assert outcome.action is not None
            assert outcome.action.status is MassActionStatus.STOPPED
        else:
            assert isinstance(outcome.error, ZuoraError)
            assert not sim.action(key).stop_accepted
    assert any(not o.ok for o in outcomes)
    assert any(o.ok for o in outcomes)


async def test_spans_hang_under_one_stop_many_span(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    span_exporter: InMemorySpanExporter,
) -> None:
    keys = [
        sim.seed_action("Processing", total=2000, records_per_second=1)
        for _ in range(3)
    ]

    await client.mass_actions.stop_many(keys, poll=poll)

    spans = span_exporter.get_finished_spans()
    (root,) = [s for s in spans if s.name == "zuora.mass_actions.stop_many"]
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["zuora.bulk_key_count"] == 3
    per_key = [s for s in spans if s.name == "zuora.mass_actions.stop_and_wait"]
    assert len(per_key) == 3
    assert all(s.parent is not None for s in per_key)
    assert {s.parent.span_id for s in per_key if s.parent} == {root.context.span_id}
    assert {s.attributes["zuora.bulk_key"] for s in per_key if s.attributes} == set(
        keys
    )
    assert all(s.context.trace_id == root.context.trace_id for s in spans)


async def test_cancelling_stop_many_cancels_every_child(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    span_exporter: InMemorySpanExporter,
) -> None:
    keys = [
        sim.seed_action(
            "Processing", total=2000, records_per_second=1, stopping_seconds=60
        )
        for _ in range(12)
    ]
    task = asyncio.ensure_future(
        client.mass_actions.stop_many(keys, concurrency=4, timeout=30, poll=poll)
    )
    await eventually(lambda: sum(r.method == "GET" for r in sim.requests) >= 8)

    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.monotonic() - started < 0.5
    assert sdk_tasks() == []
    assert 4 <= sum(1 for s in sim.requests if s.method == "PUT") < 12
    spans = span_exporter.get_finished_spans()
    assert [s.name for s in spans].count("zuora.mass_actions.stop_many") == 1
    assert all(s.status.status_code is not StatusCode.ERROR for s in spans)
