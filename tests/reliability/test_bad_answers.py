"""Answers no Zuora should send reach the caller as the SDK's own errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiozuora import ProtocolError, RetryPolicy, ServerError, ZuoraClient
from aiozuora.simulator import Fault

DEEP = "[" * 100_000 + "]" * 100_000


async def test_an_error_body_nested_too_deeply_is_a_server_error(
    client: ZuoraClient, sim: Any
) -> None:
    key = sim.seed_action("Processing")
    sim.inject(Fault(500, body=DEEP, times=4))
    with pytest.raises(ServerError) as caught:
        await client.request("GET", f"/v1/bulk/{key}")
    assert caught.value.attempts == 4


async def test_a_200_nested_too_deeply_is_a_protocol_error(
    client: ZuoraClient, sim: Any
) -> None:
    key = sim.seed_action("Processing")
    sim.inject(Fault(200, body=DEEP))
    with pytest.raises(ProtocolError, match="nested too deeply"):
        await client.request("GET", f"/v1/bulk/{key}")


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        "<html><body>Bad gateway</body></html>",
        json.dumps({"access_token": "abc\r\nX-Injected: yes", "expires_in": 3599}),
        json.dumps({"access_token": 42}),
        json.dumps(["access_token", "abc"]),
    ],
)
async def test_a_broken_token_answer_is_a_protocol_error_and_nothing_is_sent(
    sim: Any, fast_retry: RetryPolicy, body: str
) -> None:
    key = sim.seed_action("Processing")
    sim.inject(Fault(200, body=body, path="/oauth/token"))
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        retry=fast_retry,
    ) as client:
        with pytest.raises(ProtocolError) as caught:
            await client.request("GET", f"/v1/bulk/{key}")
    assert "X-Injected" not in str(caught.value)
    assert [r.path for r in sim.requests] == ["/oauth/token"]
