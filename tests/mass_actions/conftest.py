"""Fixtures for the mass-action tests: a fast poll policy, and a simulator (with
its client) whose clock moves only when a test moves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from opentelemetry.sdk.trace import TracerProvider

from aiozuora import PollPolicy, RetryPolicy, ZuoraClient
from aiozuora.simulator import ZuoraSimulator

from ..conftest import runs_sdk_code


class ManualClock:
    """A clock for the simulator that stands still until ``advance``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def poll() -> PollPolicy:
    return PollPolicy(
        initial_interval=0.01, multiplier=1.5, max_interval=0.05, jitter=0.1
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def manual_sim(clock: ManualClock) -> AsyncIterator[ZuoraSimulator]:
    async with ZuoraSimulator(
        clock=clock,
        pending_seconds=1.0,
        records_per_second=100.0,
        stopping_seconds=1.0,
    ) as simulator:
        yield simulator


@pytest.fixture
async def manual_client(
    manual_sim: ZuoraSimulator,
    fast_retry: RetryPolicy,
    tracer_provider: TracerProvider,
) -> AsyncIterator[ZuoraClient]:
    async with ZuoraClient(
        manual_sim.base_url,
        client_id=manual_sim.client_id,
        client_secret=manual_sim.client_secret,
        retry=fast_retry,
        tracer_provider=tracer_provider,
        timeout=2.0,
    ) as zuora:
        yield zuora


def sdk_tasks() -> list[asyncio.Task[object]]:
    """Tasks still alive that run SDK code (the simulator's own are left out)."""
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current and runs_sdk_code(task)
    ]


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Wait until ``condition()`` holds, checking every few milliseconds."""
    for _ in range(int(within / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"condition not met within {within} s")
