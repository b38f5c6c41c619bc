"""``max_connections`` bounds the requests in flight, and a call that waits
for its turn does not spend its timeout waiting."""

from __future__ import annotations

import asyncio

import aiohttp

from aiozuora import RetryPolicy, ZuoraClient
from aiozuora.simulator import ZuoraSimulator


async def test_max_connections_bounds_requests_even_with_a_wider_session() -> None:
    async with (
        ZuoraSimulator(concurrency_limit=2, latency=0.05) as sim,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session,
        ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            max_connections=2,
            session=session,
            retry=RetryPolicy(max_attempts=1),
        ) as client,
    ):
        keys = [sim.seed_action("Processing", total=10) for _ in range(8)]

        actions = await asyncio.gather(*(client.mass_actions.get(k) for k in keys))

    assert [action.bulk_key for action in actions] == keys
    assert all(request.status == 200 for request in sim.requests)
    assert client.stats.attempts == 8


async def test_time_queued_for_a_connection_is_not_charged_to_the_timeout() -> None:
    async with (
        ZuoraSimulator(latency=0.1) as sim,
        ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            max_connections=1,
            timeout=0.3,
            retry=RetryPolicy(max_attempts=1),
        ) as client,
    ):
        keys = [sim.seed_action("Processing", total=10) for _ in range(6)]

        # One at a time, the last call queues for about 0.5 s: more than its
        # timeout, which covers only its own request.
        actions = await asyncio.gather(*(client.mass_actions.get(k) for k in keys))

    assert len(actions) == 6
    assert client.stats.attempts == 6
