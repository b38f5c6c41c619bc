"""Tracing: the OpenTelemetry SDK set up once, and what aiozuora records.

Every SDK operation is a span, every HTTP attempt a child span, and the
Zuora-Track-Id sent with each call is "{trace_id}-{span_id}" of its operation's
span, so that a Track-Id from Zuora's logs or from Zuora support leads straight
to the trace. Here the spans go to the console, one line each; in production
you would add an OTLP exporter instead.
"""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from aiozuora import PollPolicy, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator


def one_line(span: ReadableSpan) -> str:
    context = span.get_span_context()
    attributes = span.attributes or {}
    parent = f"{span.parent.span_id:016x}" if span.parent else "-" * 16
    http = ""
    if "http.request.method" in attributes:
        http = (
            f" {attributes['http.request.method']} "
            f"-> {attributes.get('http.response.status_code', 'no answer')}"
        )
    return (
        f"{context.trace_id:032x} span {context.span_id:016x} parent {parent} "
        f"{span.name}{http} track_id={attributes.get('zuora.track_id', '-')}\n"
    )


async def main() -> None:
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line))
    )
    # The client uses the global provider unless given one: ZuoraClient(...,
    # tracer_provider=provider) works as well.
    trace.set_tracer_provider(provider)

    async with ZuoraSimulator(records_per_second=500, stopping_seconds=0.2) as sim:
        bulk_key = sim.seed_action("Processing", total=5_000, processed=1_000)
        # One server error on the stop: its retry is a second CLIENT span with
        # the same Track-Id and http.request.resend_count = 1.
        sim.inject(Fault(500, times=1, method="PUT", path=f"/v1/bulk/{bulk_key}/stop"))
        async with ZuoraClient(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        ) as client:
            action = await client.mass_actions.stop_and_wait(
                bulk_key, poll=PollPolicy(initial_interval=0.2)
            )
        print(f"{bulk_key} is {action.status}")

        # What Zuora received: the Track-Id header of every call.
        for request in sim.requests:
            if request.path.startswith("/v1/"):
                print(
                    f"Zuora saw {request.method} {request.path} "
                    f"Zuora-Track-Id: {request.headers.get('Zuora-Track-Id')}"
                )
    provider.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
