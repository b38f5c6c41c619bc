"""Requests beyond max_connections wait their turn without using up their
timeout: a request that was never sent neither times out nor is retried."""

from __future__ import annotations

import asyncio

from aiozuora import RetryPolicy, ZuoraClient
from aiozuora.simulator import ZuoraSimulator


async def test_queued_requests_do_not_time_out_or_retry(
    fast_retry: RetryPolicy,
) -> None:
    # Each answer takes 0.1 s; 16 requests over 2 connections take 0.8 s,
    # far beyond the 0.3 s each attempt may last once sent.
    async with ZuoraSimulator(latency=0.1) as sim:
        key = sim.seed_action("Processing", total=100, records_per_second=0.001)
        async with ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            retry=fast_retry,
            timeout=0.3,
            max_connections=2,
        ) as client:
            answers = await asyncio.gather(
                *(client.request("GET", f"/v1/bulk/{key}") for _ in range(16))
            )
        assert all(answer["status"] == "Processing" for answer in answers)
        assert client.stats.attempts == 16 and client.stats.total_retries == 0
        assert sum(r.path.startswith("/v1/") for r in sim.requests) == 16
