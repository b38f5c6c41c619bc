"""Spans and the Zuora-Track-Id: one INTERNAL span per operation, one CLIENT
span per attempt, the track id derived from the operation span."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

from aiozuora import NotFoundError, ServerError, ZuoraClient, track_id
from aiozuora.simulator import Fault

from .conftest import MakeClient, api_requests, wait_until

TRACK_ID = re.compile(r"[0-9a-f]{32}-[0-9a-f]{16}")


def generated_track_id(span: ReadableSpan) -> str:
    context = span.get_span_context()
    return f"{context.trace_id:032x}-{context.span_id:016x}"


def by_name(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def children(
    exporter: InMemorySpanExporter, parent: ReadableSpan
) -> list[ReadableSpan]:
    parent_id = parent.get_span_context().span_id
    return [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent_id
    ]


async def test_span_tree_and_http_attributes(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(503))

    async with client._operation("zuora.test.get", {"zuora.bulk_key": bulk_key}):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    (operation,) = by_name(span_exporter, "zuora.test.get")
    assert operation.kind is SpanKind.INTERNAL
    assert operation.attributes is not None
    assert operation.attributes["zuora.bulk_key"] == bulk_key
    track = generated_track_id(operation)
    assert operation.attributes["zuora.track_id"] == track
    assert operation.status.status_code is StatusCode.UNSET

    token, first, second = sorted(
        children(span_exporter, operation), key=lambda s: s.start_time or 0
    )
    assert token.name == "POST /oauth/token"
    assert {token.kind, first.kind, second.kind} == {SpanKind.CLIENT}
    assert first.name == second.name == "GET"
    url = f"{sim.base_url}/v1/bulk/{bulk_key}"
    port = int(sim.base_url.rsplit(":", 1)[1])
    for span, status in ((first, 503), (second, 200)):
        assert span.attributes is not None
        assert span.attributes["http.request.method"] == "GET"
        assert span.attributes["url.full"] == url
        assert span.attributes["server.address"] == "127.0.0.1"
        assert span.attributes["server.port"] == port
        assert span.attributes["http.response.status_code"] == status
        assert span.attributes["zuora.track_id"] == track
        assert len(str(span.attributes["zuora.request_id"])) == 36
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert "error.type" not in second.attributes
    assert second.attributes["http.request.resend_count"] == 1
    assert second.status.status_code is StatusCode.UNSET

    assert {r.headers["Zuora-Track-Id"] for r in api_requests(sim)} == {track}


async def test_resend_count_grows_with_each_attempt(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(500, times=3))

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    attempts = by_name(span_exporter, "GET")
    counts = [(s.attributes or {}).get("http.request.resend_count") for s in attempts]
    assert counts == [None, 1, 2, 3]


async def test_a_failed_operation_records_the_error(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(404))

    with pytest.raises(NotFoundError) as caught:
        async with client._operation("zuora.test.get"):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    (operation,) = by_name(span_exporter, "zuora.test.get")
    (attempt,) = by_name(span_exporter, "GET")
    assert operation.status.status_code is StatusCode.ERROR
    assert operation.attributes is not None
    assert operation.attributes["error.type"] == "aiozuora.NotFoundError"
    assert [e.name for e in operation.events] == ["exception"]
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "404"
    assert attempt.attributes["zuora.request_id"] == caught.value.request_id


async def test_success_false_in_a_200_marks_the_attempt(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(200, code="50000061", times=10))

    with pytest.raises(ServerError):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    attempts = by_name(span_exporter, "GET")
    assert len(attempts) == 4
    for span in attempts:
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["error.type"] == "aiozuora.ServerError"


async def test_timeout_and_connection_errors_on_attempt_spans(
    make_client: MakeClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    client = make_client(timeout=0.1)
    sim.inject(Fault(status=None, delay=0.5))
    sim.inject(Fault(status=None, drop="before", times=2))

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    timeout, dropped, ok = by_name(span_exporter, "GET")
    assert timeout.attributes is not None and dropped.attributes is not None
    assert timeout.attributes["error.type"] == "timeout"
    assert "http.response.status_code" not in timeout.attributes
    assert str(dropped.attributes["error.type"]).endswith("ServerDisconnectedError")
    assert ok.status.status_code is StatusCode.UNSET


async def test_a_call_outside_an_operation_opens_one(
    client: ZuoraClient,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    (operation,) = by_name(span_exporter, "zuora.request")
    (attempt,) = by_name(span_exporter, "GET")
    assert attempt.parent is not None
    assert attempt.parent.span_id == operation.get_span_context().span_id


async def test_nested_operations_share_the_trace_id(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    async with client._operation("zuora.test.outer"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        async with client._operation("zuora.test.inner"):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    (outer,) = by_name(span_exporter, "zuora.test.outer")
    (inner,) = by_name(span_exporter, "zuora.test.inner")
    assert inner.parent is not None
    assert inner.parent.span_id == outer.get_span_context().span_id
    sent = [r.headers["Zuora-Track-Id"] for r in api_requests(sim)]
    assert sent == [
        generated_track_id(outer),
        generated_track_id(inner),
        generated_track_id(outer),
    ]
    assert len({t.split("-")[0] for t in sent}) == 1


async def test_spans_are_parented_under_gather(
    client: ZuoraClient,
    sim: Any,
    span_exporter: InMemorySpanExporter,
) -> None:
    keys = [sim.seed_action("Processing", total=10) for _ in range(5)]
    sim.inject(Fault(503, times=5))

    async def get(key: str) -> None:
        async with client._operation("zuora.test.get", {"zuora.bulk_key": key}):
            await client._call_json("GET", f"/v1/bulk/{key}")

    async with client._operation("zuora.test.batch"):
        await asyncio.gather(*(get(key) for key in keys))

    (batch,) = by_name(span_exporter, "zuora.test.batch")
    operations = by_name(span_exporter, "zuora.test.get")
    assert len(operations) == 5
    for operation in operations:
        assert operation.parent is not None
        assert operation.parent.span_id == batch.get_span_context().span_id
        assert operation.attributes is not None
        key = operation.attributes["zuora.bulk_key"]
        attempts = [s for s in children(span_exporter, operation) if s.name == "GET"]
        assert attempts
        for attempt in attempts:
            assert attempt.attributes is not None
            assert str(attempt.attributes["url.full"]).endswith(f"/{key}")
            assert attempt.attributes["zuora.track_id"] == generated_track_id(operation)


async def test_cancellation_ends_spans_without_an_error(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(status=None, delay=1.0))

    async def get() -> None:
        async with client._operation("zuora.test.get"):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    task = asyncio.ensure_future(get())
    await wait_until(lambda: api_requests(sim))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (operation,) = by_name(span_exporter, "zuora.test.get")
    (attempt,) = by_name(span_exporter, "GET")
    for span in (operation, attempt):
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert "error.type" not in (span.attributes or {})
        assert span.events == ()


async def test_without_a_tracer_the_track_id_is_random_of_the_same_shape(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(tracer_provider=NoOpTracerProvider())

    async with client._operation("zuora.test.outer"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        async with client._operation("zuora.test.inner"):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    async with client._operation("zuora.test.other"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    outer, inner, other = (r.headers["Zuora-Track-Id"] for r in api_requests(sim))
    for value in (outer, inner, other):
        assert TRACK_ID.fullmatch(value)
    assert len({outer, inner, other}) == 3
    assert outer.split("-")[0] == inner.split("-")[0] != other.split("-")[0]


async def test_the_global_tracer_provider_is_used_by_default(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = make_client(tracer_provider=None)

    async with client._operation("zuora.test.global"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    exporter.shutdown()

    (operation,) = by_name(exporter, "zuora.test.global")
    assert api_requests(sim)[-1].headers["Zuora-Track-Id"] == generated_track_id(
        operation
    )


async def test_track_id_override_is_sent_on_every_attempt(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    sim.inject(Fault(502))

    with track_id("batch-42"):
        async with client._operation("zuora.test.get"):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.headers["Zuora-Track-Id"] for r in api_requests(sim)] == ["batch-42"] * 3
    spans = by_name(span_exporter, "zuora.test.get") + by_name(span_exporter, "GET")
    assert {(s.attributes or {}).get("zuora.track_id") for s in spans} == {"batch-42"}


async def test_track_id_override_reaches_tasks_started_inside(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    with track_id("fan-out"):
        await asyncio.gather(
            *(client._call_json("GET", f"/v1/bulk/{bulk_key}") for _ in range(3))
        )

    assert {r.headers["Zuora-Track-Id"] for r in api_requests(sim)} == {"fan-out"}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("x" * 65, "at most 64"),
        ("caf\u00e9", "US-ASCII"),
        ("tab\there", "control"),
        ("a:b", "colon"),
        ("a;b", "semicolon"),
        ('a"b', "double quote"),
        ("a'b", "single quote"),
        ("", "empty"),
    ],
)
async def test_an_invalid_track_id_is_refused_before_any_request(
    client: ZuoraClient, sim: Any, bulk_key: str, value: str, rule: str
) -> None:
    with pytest.raises(ValueError, match=rule), track_id(value):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert sim.requests == []
