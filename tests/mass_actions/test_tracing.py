"""The spans of mass-action operations and the track ids they send."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from aiozuora import (
    MassActionNotStoppableError,
    MassActionStatus,
    PollPolicy,
    ZuoraClient,
)
from aiozuora.simulator import Fault, ZuoraSimulator

INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT


def tree(spans: tuple[ReadableSpan, ...]) -> list[Any]:
    """The spans as nested (name, kind, children) in start order."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent else None
        children.setdefault(parent, []).append(span)

    def build(parent: int | None) -> list[Any]:
        ordered = sorted(children.get(parent, []), key=lambda s: s.start_time or 0)
        return [(s.name, s.kind, build(s.context.span_id)) for s in ordered]

    return build(None)


def track_id_of(span: ReadableSpan) -> str:
    context = span.context
    return f"{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}"


async def warm_up(client: ZuoraClient, sim: ZuoraSimulator) -> None:
    """Fetch the token first, so that its span is not part of the tree."""
    await client.mass_actions.get(sim.seed_action("Completed", total=1))


async def test_the_exact_span_tree_of_stop_and_wait(
    sim: ZuoraSimulator, client: ZuoraClient, span_exporter: InMemorySpanExporter
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    await warm_up(client, sim)
    span_exporter.clear()
    # Zuora takes 0.05 s to stop: the first poll, 0.15 s after, sees Stopped.
    poll = PollPolicy(initial_interval=0.15, jitter=0)

    action = await client.mass_actions.stop_and_wait(key, timeout=5, poll=poll)

    assert action.status is MassActionStatus.STOPPED
    spans = span_exporter.get_finished_spans()
    assert tree(spans) == [
        (
            "zuora.mass_actions.stop_and_wait",
            INTERNAL,
            [
                ("zuora.mass_actions.stop", INTERNAL, [("PUT", CLIENT, [])]),
                (
                    "zuora.mass_actions.wait",
                    INTERNAL,
                    [("zuora.mass_actions.get", INTERNAL, [("GET", CLIENT, [])])],
                ),
            ],
        )
    ]
    by_name = {span.name: span for span in spans}
    root = by_name["zuora.mass_actions.stop_and_wait"]
    assert all(s.context.trace_id == root.context.trace_id for s in spans)
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    for span in spans:
        assert span.attributes is not None
        if span.kind is INTERNAL:
            assert span.attributes["zuora.bulk_key"] == key
            assert span.attributes["zuora.track_id"] == track_id_of(span)
    for name, operation in (("PUT", "stop"), ("GET", "get")):
        attempt = by_name[name]
        owner = by_name[f"zuora.mass_actions.{operation}"]
        assert attempt.attributes is not None
        assert attempt.attributes["zuora.track_id"] == track_id_of(owner)
        assert attempt.attributes["http.response.status_code"] == 200
    assert root.attributes is not None
    assert root.attributes["zuora.mass_action.status"] == "Stopped"

    sent = [r.headers["Zuora-Track-Id"] for r in sim.requests if key in r.path]
    trace_prefix = format_trace_id(root.context.trace_id)
    assert sent == [
        track_id_of(by_name["zuora.mass_actions.stop"]),
        track_id_of(by_name["zuora.mass_actions.get"]),
    ]
    assert all(value.startswith(trace_prefix + "-") for value in sent)


async def test_a_stop_retried_after_a_lost_answer_keeps_its_track_id(
    sim: ZuoraSimulator, client: ZuoraClient, span_exporter: InMemorySpanExporter
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    await warm_up(client, sim)
    span_exporter.clear()
    sim.inject(Fault(drop="after", method="PUT", path="/v1/bulk/*/stop"))

    await client.mass_actions.stop(key)

    spans = span_exporter.get_finished_spans()
    ((name, kind, calls),) = tree(spans)
    assert (name, kind) == ("zuora.mass_actions.stop", INTERNAL)
    # The PUT was sent twice (aiohttp may resend it on a fresh connection
    # within one attempt); the refusal was followed by one look-up.
    assert [call[0] for call in calls][-1] == "GET"
    assert {call[0] for call in calls[:-1]} == {"PUT"}
    assert [r.status for r in sim.requests if r.method == "PUT"] == [None, 200]
    (stop,) = [s for s in spans if s.name == "zuora.mass_actions.stop"]
    assert stop.status.status_code is StatusCode.UNSET
    assert stop.attributes is not None
    assert stop.attributes["zuora.mass_action.status"] == "Stopping"
    sent = {r.headers["Zuora-Track-Id"] for r in sim.requests if key in r.path}
    assert sent == {track_id_of(stop)}


async def test_every_operation_names_its_span_and_bulk_key(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    poll: PollPolicy,
    span_exporter: InMemorySpanExporter,
) -> None:
    done = sim.seed_action("Completed", total=3)
    running = sim.seed_action("Processing", total=2000, records_per_second=1)

    action = await client.mass_actions.wait(done, poll=poll)
    await client.mass_actions.response_file(action)
    await client.mass_actions.stop(running)
    submitted = await client.mass_actions.submit(b"Object Key\r\nK1\r\n", "MPU")

    names = {
        (s.name, (s.attributes or {}).get("zuora.bulk_key"))
        for s in span_exporter.get_finished_spans()
        if s.kind is INTERNAL
    }
    assert names >= {
        ("zuora.mass_actions.wait", done),
        ("zuora.mass_actions.get", done),
        ("zuora.mass_actions.response_file", done),
        ("zuora.mass_actions.stop", running),
        ("zuora.mass_actions.submit", submitted),
    }


async def test_an_action_finished_before_the_stop_is_no_failure_in_the_trace(
    sim: ZuoraSimulator, client: ZuoraClient, span_exporter: InMemorySpanExporter
) -> None:
    key = sim.seed_action("Completed", total=10)
    await warm_up(client, sim)
    span_exporter.clear()

    action = await client.mass_actions.stop_and_wait(key, timeout=5)

    assert action.status is MassActionStatus.COMPLETED
    spans = span_exporter.get_finished_spans()
    assert tree(spans) == [
        (
            "zuora.mass_actions.stop_and_wait",
            INTERNAL,
            [
                (
                    "zuora.mass_actions.stop",
                    INTERNAL,
                    [("PUT", CLIENT, []), ("GET", CLIENT, [])],
                )
            ],
        )
    ]
    # The refused PUT is a failed attempt; the operations did not fail.
    failed = {s.name for s in spans if s.status.status_code is StatusCode.ERROR}
    assert failed <= {"PUT"}
    (stop,) = [s for s in spans if s.name == "zuora.mass_actions.stop"]
    assert stop.attributes is not None
    assert stop.attributes["zuora.mass_action.status"] == "Completed"


async def test_a_refused_stop_on_its_own_is_a_failed_span(
    sim: ZuoraSimulator, client: ZuoraClient, span_exporter: InMemorySpanExporter
) -> None:
    key = sim.seed_action("Failed", total=10)

    with pytest.raises(MassActionNotStoppableError):
        await client.mass_actions.stop(key)

    (stop,) = [
        s
        for s in span_exporter.get_finished_spans()
        if s.name == "zuora.mass_actions.stop"
    ]
    assert stop.status.status_code is StatusCode.ERROR
    assert stop.attributes is not None
    assert stop.attributes["error.type"] == "aiozuora.MassActionNotStoppableError"
