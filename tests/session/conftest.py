"""Helpers for the session layer's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from aiozuora import RetryPolicy, ZuoraClient

from ..conftest import closed_port as closed_port


def api_requests(sim: Any, path: str | None = None) -> list[Any]:
    """The recorded requests to /v1 (or to ``path``), oldest first."""
    return [
        r
        for r in sim.requests
        if (r.path == path if path is not None else r.path.startswith("/v1/"))
    ]


def token_requests(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.path == "/oauth/token"]


MakeClient = Callable[..., ZuoraClient]


@pytest.fixture
async def make_client(
    sim: Any, fast_retry: RetryPolicy, tracer_provider: TracerProvider
) -> AsyncIterator[MakeClient]:
    """Build clients on the simulator with the test defaults, closed at the end."""
    made: list[ZuoraClient] = []

    def make(**options: Any) -> ZuoraClient:
        base_url = options.pop("base_url", sim.base_url)
        settings: dict[str, Any] = {
            "retry": fast_retry,
            "tracer_provider": tracer_provider,
            "timeout": 2.0,
        }
        if "access_token" not in options:
            settings.update(client_id=sim.client_id, client_secret=sim.client_secret)
        settings.update(options)
        zuora = ZuoraClient(base_url, **settings)
        made.append(zuora)
        return zuora

    yield make
    for zuora in made:
        await zuora.close()


@pytest.fixture
def bulk_key(sim: Any) -> str:
    """A mass action that stays Processing for the length of a test."""
    key: str = sim.seed_action("Processing", total=1000, records_per_second=1.0)
    return key


async def wait_until(condition: Callable[[], object], timeout: float = 2.0) -> None:
    """Let the event loop run until ``condition()`` is true."""
    for _ in range(int(timeout / 0.002)):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached in time")
