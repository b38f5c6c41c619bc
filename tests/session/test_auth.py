"""Tokens: OAuth client credentials cached, refreshed, fetched once for many
callers, and a 401 cured by one refresh; static tokens as given."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aiozuora import AuthenticationError, RetryPolicy, ServerError, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator

from .conftest import MakeClient, api_requests, token_requests, wait_until
from .test_retry import upload_form

TOKEN = "/oauth/token"


def bearer(request: Any) -> str:
    value: str = request.headers["Authorization"]
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


async def test_token_is_fetched_once_and_reused(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    for _ in range(3):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    (fetch,) = token_requests(sim)
    assert "Authorization" not in fetch.headers
    assert "Zuora-Entity-Ids" not in fetch.headers
    assert len({bearer(r) for r in api_requests(sim)}) == 1
    assert client.stats.token_requests == 1


async def test_fifty_concurrent_calls_share_one_token_fetch(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(status=None, delay=0.1, path=TOKEN))

    bodies = await asyncio.gather(
        *(client._call_json("GET", f"/v1/bulk/{bulk_key}") for _ in range(50))
    )

    assert len(bodies) == 50
    assert len(token_requests(sim)) == 1
    assert len(api_requests(sim)) == 50
    assert client.stats.retries == {}


async def test_a_failed_fetch_is_not_cached_and_is_shared(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(503, delay=0.05, path=TOKEN))

    bodies = await asyncio.gather(
        *(client._call_json("GET", f"/v1/bulk/{bulk_key}") for _ in range(50))
    )

    assert len(bodies) == 50
    assert [r.status for r in token_requests(sim)] == [503, 200]
    assert client.stats.retries == {"HTTP 503": 50}


async def test_a_failed_fetch_lets_even_a_post_retry(
    client: ZuoraClient, sim: Any
) -> None:
    sim.inject(Fault(500, path=TOKEN))

    body = await client._call_json("POST", "/v1/bulk", data=upload_form)

    assert len(body["bulkKey"]) == 32
    assert len(api_requests(sim, "/v1/bulk")) == 1


async def test_token_is_refreshed_before_it_expires(
    make_client: MakeClient, fast_retry: RetryPolicy
) -> None:
    async with ZuoraSimulator(token_ttl=0.5) as sim:
        key = sim.seed_action("Processing", total=1000, records_per_second=1.0)
        client = make_client(
            base_url=sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
        )
        await client._call_json("GET", f"/v1/bulk/{key}")
        # Past 90 % of the token's life: the next call must not risk a 401.
        await asyncio.sleep(0.47)
        await client._call_json("GET", f"/v1/bulk/{key}")

        assert [r.status for r in api_requests(sim)] == [200, 200]
        assert len(token_requests(sim)) == 2
        first, second = api_requests(sim)
        assert bearer(first) != bearer(second)
        await client.close()


async def test_a_401_leads_to_one_refresh_and_one_retry(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    sim.expire_tokens()

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.status for r in api_requests(sim)] == [200, 401, 200]
    assert len(token_requests(sim)) == 2
    assert client.stats.retries == {"HTTP 401": 1}


async def test_a_401_refresh_does_not_use_up_a_retry(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    sim.expire_tokens()

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.status for r in api_requests(sim)] == [200, 401, 200]


async def test_fifty_calls_with_an_expired_token_refresh_once(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    sim.expire_tokens()

    await asyncio.gather(
        *(client._call_json("GET", f"/v1/bulk/{bulk_key}") for _ in range(50))
    )

    assert len(token_requests(sim)) == 2
    assert client.stats.retries["HTTP 401"] <= 50


async def test_a_401_that_persists_is_not_a_loop(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(401, times=10))

    with pytest.raises(AuthenticationError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.status == 401
    assert caught.value.attempts == 2
    assert len(api_requests(sim)) == 2
    assert len(token_requests(sim)) == 2


async def test_a_token_that_expires_again_later_in_the_call_is_refreshed_again(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(401, method="GET"))
    sim.inject(Fault(500, method="GET"))
    sim.inject(Fault(401, method="GET"))

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.status for r in api_requests(sim)] == [401, 500, 401, 200]
    assert len(token_requests(sim)) == 3
    assert client.stats.retries == {"HTTP 401": 2, "HTTP 500": 1}


async def test_refreshes_do_not_lift_the_cap_on_other_retries(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2, initial_backoff=0.001))
    for _ in range(3):
        sim.inject(Fault(401, method="GET"))
        sim.inject(Fault(500, method="GET"))

    with pytest.raises(ServerError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.status for r in api_requests(sim)] == [401, 500, 401, 500]
    assert caught.value.attempts == 4


async def test_a_401_on_a_post_refreshes_and_retries_once(
    client: ZuoraClient, sim: Any
) -> None:
    sim.inject(Fault(401, method="POST"))

    body = await client._call_json("POST", "/v1/bulk", data=upload_form)

    assert len(body["bulkKey"]) == 32
    assert [r.status for r in api_requests(sim, "/v1/bulk")] == [401, 200]


async def test_revoked_credentials_are_an_authentication_error(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.revoke_client()

    with pytest.raises(AuthenticationError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.attempts == 1
    assert api_requests(sim) == []
    assert len(token_requests(sim)) == 1


async def test_revoked_after_a_token_was_issued(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    sim.revoke_client()

    with pytest.raises(AuthenticationError):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert [r.status for r in api_requests(sim)] == [200, 401]
    assert len(token_requests(sim)) == 2


async def test_static_token_is_sent_as_given(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    async with make_client() as oauth:
        token = (await oauth._auth.token()).value.reveal()
    client = make_client(access_token=token)

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert bearer(api_requests(sim)[-1]) == token
    assert len(token_requests(sim)) == 1


async def test_static_token_refused_is_final(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(access_token="not-a-token")

    with pytest.raises(AuthenticationError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.attempts == 1
    assert token_requests(sim) == []
    assert len(api_requests(sim)) == 1


async def test_one_waiter_cancelled_does_not_cancel_the_fetch(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(status=None, delay=0.2, path=TOKEN))
    first = asyncio.ensure_future(client._call_json("GET", f"/v1/bulk/{bulk_key}"))
    second = asyncio.ensure_future(client._call_json("GET", f"/v1/bulk/{bulk_key}"))
    await wait_until(lambda: token_requests(sim))

    first.cancel()
    body = await second

    assert body["status"] == "Processing"
    assert first.cancelled()
    assert len(token_requests(sim)) == 1
    assert len(api_requests(sim)) == 1


async def test_close_during_a_token_fetch_leaves_nothing_running(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client()
    sim.inject(Fault(status=None, delay=1.0, path=TOKEN))
    call = asyncio.ensure_future(client._call_json("GET", f"/v1/bulk/{bulk_key}"))
    await wait_until(lambda: token_requests(sim))

    call.cancel()
    await client.close()

    with pytest.raises(asyncio.CancelledError):
        await call
    assert client.closed


async def test_callers_sharing_a_failed_fetch_get_their_own_errors(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.revoke_client()
    sim.inject(Fault(status=None, delay=0.05, path=TOKEN))

    errors = await asyncio.gather(
        *(client._call_json("GET", f"/v1/bulk/{bulk_key}") for _ in range(5)),
        return_exceptions=True,
    )

    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert len({id(e) for e in errors}) == 5
    assert len(token_requests(sim)) == 1
