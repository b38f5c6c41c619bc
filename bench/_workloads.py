"""Client workloads, each run in a fresh process by ``run.py``.

``python bench/_workloads.py NAME`` reads its parameters as one JSON object on
stdin, runs the workload against the server named there, and prints one JSON
line with what it measured (see ``_common.Measurement``). A fresh process per
workload keeps CPU time and peak RSS clean of the runner and of the other side.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any

import aiohttp
from _common import emit, measure

Params = dict[str, Any]


async def run_workers(
    keys: Iterable[str], concurrency: int, call: Callable[[str], Awaitable[None]]
) -> None:
    """Call ``call(key)`` for every key, ``concurrency`` calls at a time."""
    pending = iter(keys)

    async def worker() -> None:
        for key in pending:
            await call(key)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


# --- the hand-written baseline ------------------------------------------------


def raw_track_id() -> str:
    """A Zuora-Track-Id of the shape the SDK sends without a tracer."""
    return f"{secrets.token_hex(16)}-{secrets.token_hex(8)}"


async def raw_token(session: aiohttp.ClientSession, params: Params) -> str:
    form = {
        "client_id": params["client_id"],
        "client_secret": params["client_secret"],
        "grant_type": "client_credentials",
    }
    async with session.post(f"{params['base_url']}/oauth/token", data=form) as resp:
        resp.raise_for_status()
        body = await resp.json()
    token: str = body["access_token"]
    return token


async def raw_stop(params: Params) -> dict[str, Any]:
    """``PUT /v1/bulk/{key}/stop`` in a plain aiohttp loop: the floor to beat.

    It sends the headers the SDK sends, reads and parses the JSON answer and
    checks ``success``, and does nothing else: no retry, no span, no typed
    error, no bulk-key validation.
    """
    from aiozuora._headers import USER_AGENT

    base_url = params["base_url"]
    concurrency = params["concurrency"]
    connector = aiohttp.TCPConnector(limit=concurrency)
    failures = 0

    async with aiohttp.ClientSession(connector=connector) as session:
        authorization = f"Bearer {await raw_token(session, params)}"

        async def stop(key: str) -> None:
            nonlocal failures
            headers = {
                "Authorization": authorization,
                "Zuora-Track-Id": raw_track_id(),
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "User-Agent": USER_AGENT,
            }
            async with session.put(
                f"{base_url}/v1/bulk/{key}/stop", headers=headers
            ) as resp:
                body = await resp.json()
            if resp.status != 200 or body.get("success") is not True:
                failures += 1

        await run_workers(params["warmup_keys"], concurrency, stop)
        with measure() as result:
            await run_workers(params["keys"], concurrency, stop)
        result.requests = len(params["keys"])
        result.extra["failures"] = failures
    return result.to_json()


# --- aiozuora -----------------------------------------------------------------


def make_client(params: Params, **options: Any) -> Any:
    from aiozuora import ZuoraClient

    return ZuoraClient(
        params["base_url"],
        client_id=params["client_id"],
        client_secret=params["client_secret"],
        **options,
    )


def dropping_tracer_provider() -> tuple[Any, Callable[[], int]]:
    """An OpenTelemetry SDK provider that records every span, then drops it.

    Returns the provider and a function counting the spans exported so far.
    """
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class DroppingExporter(SpanExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            self.count += len(spans)
            return SpanExportResult.SUCCESS

    exporter = DroppingExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, lambda: exporter.count


async def sdk_stop(params: Params) -> dict[str, Any]:
    """``client.mass_actions.stop`` for every key, ``concurrency`` at a time."""
    concurrency = params["concurrency"]
    provider = None
    exported: Callable[[], int] = lambda: 0  # noqa: E731
    if params.get("tracing"):
        provider, exported = dropping_tracer_provider()
    failures = 0

    async with make_client(
        params, max_connections=concurrency, tracer_provider=provider
    ) as client:

        async def stop(key: str) -> None:
            nonlocal failures
            try:
                await client.mass_actions.stop(key)
            except Exception:
                failures += 1

        await run_workers(params["warmup_keys"], concurrency, stop)
        if provider is not None:
            provider.force_flush()
        spans_before = exported()
        with measure() as result:
            await run_workers(params["keys"], concurrency, stop)
            if provider is not None:
                # The batch processor's thread exports in the background; its
                # CPU is the client's too, so the measurement waits for it.
                provider.force_flush()
        result.requests = len(params["keys"])
        result.extra["failures"] = failures
        result.extra["spans"] = exported() - spans_before
    if provider is not None:
        provider.shutdown()
    return result.to_json()


async def sdk_stop_many(params: Params) -> dict[str, Any]:
    """``stop_many(keys, concurrency=N, wait=False)``: the stops, no polling."""
    concurrency = params["concurrency"]
    async with make_client(params, max_connections=concurrency) as client:
        await client.mass_actions.stop(params["warmup_key"])
        with measure() as result:
            outcomes = await client.mass_actions.stop_many(
                params["keys"], concurrency=concurrency, wait=False
            )
        result.requests = len(params["keys"])
        result.extra["failures"] = sum(not outcome.ok for outcome in outcomes)
    return result.to_json()


async def sdk_stop_and_wait(params: Params) -> dict[str, Any]:
    """Every key's ``stop_and_wait`` at once, in one process."""
    async with make_client(params, max_connections=params["max_connections"]) as c:
        with measure() as result:
            finals = await asyncio.gather(
                *(c.mass_actions.stop_and_wait(key) for key in params["keys"]),
                return_exceptions=True,
            )
        statuses = Counter(
            type(final).__name__
            if isinstance(final, BaseException)
            else str(final.status)
            for final in finals
        )
        result.requests = len(params["keys"])
        result.extra["final"] = dict(statuses)
    return result.to_json()


async def sdk_poll(params: Params) -> dict[str, Any]:
    """``stop_and_wait`` on actions that take different times to stop.

    Answers, per key, when (``time.monotonic``) the caller learnt the final
    state; the runner compares it with when the server reached that state.
    """
    from aiozuora import PollPolicy

    scale = params["time_scale"]
    default = PollPolicy()
    policy = PollPolicy(
        initial_interval=default.initial_interval * scale,
        multiplier=default.multiplier,
        max_interval=default.max_interval * scale,
        jitter=default.jitter,
    )
    learnt: dict[str, float] = {}
    finals: dict[str, str] = {}

    async with make_client(params) as client:

        async def one(key: str) -> None:
            action = await client.mass_actions.stop_and_wait(key, poll=policy)
            learnt[key] = time.monotonic()
            finals[key] = str(action.status)

        with measure() as result:
            await asyncio.gather(*(one(key) for key in params["keys"]))
        result.requests = len(params["keys"])
        result.extra["learnt"] = learnt
        result.extra["final"] = finals
        result.extra["policy"] = {
            "initial_interval": policy.initial_interval,
            "multiplier": policy.multiplier,
            "max_interval": policy.max_interval,
            "jitter": policy.jitter,
        }
    return result.to_json()


async def sdk_throughput(params: Params) -> dict[str, Any]:
    """As many ``get`` calls as asked, ``concurrency`` in flight at once."""
    concurrency = params["concurrency"]
    keys = params["keys"]
    count = params["count"]
    in_flight = 0
    peak = 0
    failures = 0

    async with make_client(params, max_connections=concurrency) as client:

        async def get(key: str) -> None:
            nonlocal in_flight, peak, failures
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await client.mass_actions.get(key)
            except Exception:
                failures += 1
            finally:
                in_flight -= 1

        await run_workers(keys, concurrency, get)
        peak = 0
        with measure() as result:
            await run_workers(
                (keys[i % len(keys)] for i in range(count)), concurrency, get
            )
        result.requests = count
        result.extra["failures"] = failures
        result.extra["peak_in_flight"] = peak
    return result.to_json()


WORKLOADS: dict[str, Callable[[Params], Coroutine[Any, Any, dict[str, Any]]]] = {
    "raw_stop": raw_stop,
    "sdk_stop": sdk_stop,
    "sdk_stop_many": sdk_stop_many,
    "sdk_stop_and_wait": sdk_stop_and_wait,
    "sdk_poll": sdk_poll,
    "sdk_throughput": sdk_throughput,
}


def main() -> None:
    name = sys.argv[1]
    params = json.load(sys.stdin)
    emit(asyncio.run(WORKLOADS[name](params)))


if __name__ == "__main__":
    main()
