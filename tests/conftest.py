"""Fixtures shared by the test suite: a real simulator on loopback, a client
talking to it, and the OpenTelemetry SDK recording spans in memory."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

import aiozuora
from aiozuora import RetryPolicy, ZuoraClient

#: The folder beside the project that holds Zuora's API facts and schemas. It is
#: not part of the project: a user's clone may not have it, and tests that need
#: it skip.
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


def shared_file(name: str) -> Path:
    path = SHARED_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: it sits beside the project, not in it")
    return path


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_SDK_DIR = Path(aiozuora.__file__).resolve().parent
_SIMULATOR_DIR = _SDK_DIR / "simulator"


def runs_sdk_code(task: asyncio.Task[Any]) -> bool:
    """Whether a task's coroutine is the SDK's own code (not the simulator's).

    Judged by where the code lives, not by a name in its path: a clone in a
    folder named ``aiozuora`` has aiohttp under ``aiozuora/.venv`` too.
    """
    code = getattr(task.get_coro(), "cr_code", None)
    if code is None:
        return False
    path = Path(code.co_filename).resolve()
    return path.is_relative_to(_SDK_DIR) and not path.is_relative_to(_SIMULATOR_DIR)


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """A retry policy with the default rules but millisecond delays."""
    return RetryPolicy(
        max_attempts=4,
        initial_backoff=0.001,
        max_backoff=0.01,
        deadline=10.0,
        max_retry_after=0.05,
    )


@pytest.fixture
async def sim() -> AsyncIterator[object]:
    from aiozuora.simulator import ZuoraSimulator

    async with ZuoraSimulator(
        pending_seconds=0.05,
        records_per_second=2000.0,
        stopping_seconds=0.05,
    ) as simulator:
        yield simulator


@pytest.fixture
async def client(
    sim: Any, fast_retry: RetryPolicy, tracer_provider: TracerProvider
) -> AsyncIterator[ZuoraClient]:
    """A ZuoraClient on the simulator, with millisecond retries and spans in
    ``span_exporter``."""
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        retry=fast_retry,
        tracer_provider=tracer_provider,
        timeout=2.0,
    ) as zuora:
        yield zuora
