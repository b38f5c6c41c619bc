"""The retry policy against the simulator: what is retried, how long it waits,
when it gives up, and that a cancelled call stops at once."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
import pytest
import tenacity

from aiozuora import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
    ZuoraClient,
)
from aiozuora.simulator import Fault

from .conftest import MakeClient, api_requests, closed_port, wait_until

CSV = (
    "Object Key,Object Type,Deferred Revenue Accounting Code\n"
    "INV-1,Invoice Item,DR-100\n"
    "INV-2,Invoice Item,DR-100\n"
)


def upload_form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", CSV.encode(), filename="codes.csv", content_type="text/csv")
    form.add_field("params", json.dumps({"actionType": "UpdateAccountingCode"}))
    return form


def retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aiozuora" and "retrying" in r.msg]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(
    client: ZuoraClient, sim: Any, bulk_key: str, status: int
) -> None:
    sim.inject(Fault(status))

    body = await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert body["status"] == "Processing"
    assert [r.status for r in api_requests(sim)] == [status, 200]
    assert client.stats.retries == {f"HTTP {status}": 1}


@pytest.mark.parametrize("category", [50, 61, 70, 99])
async def test_retryable_categories_in_http_200_are_retried(
    client: ZuoraClient, sim: Any, bulk_key: str, category: int
) -> None:
    sim.inject(Fault(200, code=f"500000{category}", times=2))

    body = await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert body["success"] is True
    assert [r.status for r in api_requests(sim)] == [200, 200, 200]
    assert client.stats.retries == {f"category {category}": 2}


async def test_category_60_is_retried_at_most_once(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(200, code=50000060, times=5))

    with pytest.raises(ServerError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.category == 60
    assert caught.value.attempts == 2
    assert len(api_requests(sim)) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(400), InvalidRequestError),
        (Fault(401, body="html"), AuthenticationError),
        (Fault(403), PermissionDeniedError),
        (Fault(404), NotFoundError),
        (Fault(405), InvalidRequestError),
        (Fault(422), InvalidRequestError),
        (Fault(501, code="50000045"), ServerError),
        (Fault(200, code="50000020"), InvalidRequestError),
        (Fault(200, code="50000010"), PermissionDeniedError),
        (Fault(200, code="90000011"), AuthenticationError),
        (Fault(200, code="50000030"), InvalidRequestError),
        (Fault(200, code="50000040"), NotFoundError),
        (Fault(200, code="50000090"), InvalidRequestError),
    ],
)
async def test_other_failures_are_not_retried(
    make_client: MakeClient,
    sim: Any,
    bulk_key: str,
    fault: Fault,
    error: type[Exception],
) -> None:
    # A static token: a 401 is then final, with nothing to refresh.
    token = await _token(make_client)
    client = make_client(access_token=token)
    sim.inject(fault)

    with pytest.raises(error) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert type(caught.value) is error
    assert caught.value.attempts == 1  # type: ignore[attr-defined]
    assert len(api_requests(sim)) == 1
    assert client.stats.retries == {}


async def _token(make_client: MakeClient) -> str:
    async with make_client() as oauth:
        token = await oauth._auth.token()
        return token.value.reveal()


async def test_gives_up_with_the_last_typed_error(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.inject(Fault(503, times=10))
    caplog.set_level(logging.DEBUG, logger="aiozuora")

    with pytest.raises(ServerError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    error = caught.value
    assert not isinstance(error, tenacity.RetryError)
    assert error.status == 503
    assert error.attempts == 4
    assert "after 4 attempts" in str(error)
    assert error.request_id is not None
    assert len(error.request_id) == 36
    assert len(api_requests(sim)) == 4
    assert client.stats.retries == {"HTTP 503": 3}
    assert len(retry_records(caplog)) == 3
    assert all(r.levelno == logging.INFO for r in retry_records(caplog))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "giving up" in warnings[0].getMessage()
    assert "HTTP 503" in warnings[0].getMessage()
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert sum("/v1/bulk/" in r.getMessage() for r in debug) == 4


async def test_retrying_off_makes_one_attempt(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    sim.inject(Fault(503, times=2))

    with pytest.raises(ServerError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.attempts == 1
    assert len(api_requests(sim)) == 1


async def test_dropped_connection_is_retried_for_a_get(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    # aiohttp itself sends an idempotent request a second time when the
    # connection closes under it (RFC 9112, 9.3.1); the second drop reaches us.
    sim.inject(Fault(status=None, drop="before", times=2))

    body = await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert body["status"] == "Processing"
    assert client.stats.retries == {"connection error": 1}
    assert [r.status for r in api_requests(sim)] == [None, None, 200]


async def test_timeout_is_retried(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(timeout=0.2)
    sim.inject(Fault(status=None, delay=1.0))

    started = time.monotonic()
    body = await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert body["status"] == "Processing"
    assert client.stats.retries == {"timeout": 1}
    assert 0.2 <= time.monotonic() - started < 0.9


async def test_timeouts_until_give_up_are_a_transport_error(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(timeout=0.1, retry=RetryPolicy(max_attempts=2))
    sim.inject(Fault(status=None, delay=0.5, times=2))

    with pytest.raises(TransportError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.timed_out
    assert caught.value.attempts == 2
    assert "no answer within 0.1 s" in str(caught.value)


async def test_post_that_reached_zuora_is_not_retried(
    client: ZuoraClient, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject(Fault(500, method="POST"))

    with pytest.raises(ServerError) as caught:
        await client._call_json("POST", "/v1/bulk", data=upload_form)

    assert caught.value.attempts == 1
    assert len(api_requests(sim)) == 1
    assert any("Idempotency-Key" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("drop", ["before", "after"])
async def test_post_with_a_lost_answer_is_not_retried(
    client: ZuoraClient, sim: Any, drop: str
) -> None:
    sim.inject(Fault(status=None, drop=drop, method="POST"))

    with pytest.raises(TransportError) as caught:
        await client._call_json("POST", "/v1/bulk", data=upload_form)

    assert caught.value.attempts == 1
    assert len(api_requests(sim)) == 1


async def test_post_with_an_idempotency_key_is_retried_with_the_same_key(
    client: ZuoraClient, sim: Any
) -> None:
    sim.inject(Fault(503, method="POST"))
    sim.inject(Fault(status=None, drop="after", method="POST"))

    body = await client._call_json(
        "POST", "/v1/bulk", data=upload_form, idempotency_key="upload-7f3a"
    )

    posts = api_requests(sim, "/v1/bulk")
    assert len(posts) == 3
    assert {r.headers["Idempotency-Key"] for r in posts} == {"upload-7f3a"}
    assert len(body["bulkKey"]) == 32


async def test_post_that_never_connected_is_retried(
    make_client: MakeClient, sim: Any
) -> None:
    client = make_client(
        base_url=f"http://127.0.0.1:{closed_port()}", access_token="static"
    )

    with pytest.raises(TransportError) as caught:
        await client._call_json("POST", "/v1/bulk", data=upload_form)

    assert caught.value.attempts == 4
    assert not caught.value.timed_out
    assert client.stats.retries == {"connection error": 3}


async def test_backoff_stays_within_full_jitter_bounds(
    make_client: MakeClient,
    sim: Any,
    bulk_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(
        max_attempts=6, initial_backoff=0.004, max_backoff=0.01, deadline=10
    )
    client = make_client(retry=policy)
    sim.inject(Fault(500, times=5))
    caplog.set_level(logging.INFO, logger="aiozuora")

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    delays = [r.delay for r in retry_records(caplog)]  # type: ignore[attr-defined]
    ceilings = [0.004, 0.008, 0.01, 0.01, 0.01]
    assert len(delays) == 5
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert [r.reason for r in retry_records(caplog)] == ["HTTP 500"] * 5  # type: ignore[attr-defined]


async def test_retry_after_is_honoured(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(initial_backoff=0.001, max_backoff=0.001))
    sim.inject(Fault(429, retry_after=0.25))

    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    first, second = api_requests(sim)
    assert first.status == 429
    assert second.time - first.time >= 0.25


async def test_retry_after_on_503_is_capped(
    make_client: MakeClient,
    sim: Any,
    bulk_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(initial_backoff=0.001, max_backoff=0.001, max_retry_after=0.05)
    client = make_client(retry=policy)
    sim.inject(Fault(503, retry_after=30))
    caplog.set_level(logging.INFO, logger="aiozuora")

    started = time.monotonic()
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert time.monotonic() - started < 1.0
    (record,) = retry_records(caplog)
    assert record.delay == pytest.approx(0.05)  # type: ignore[attr-defined]


async def test_retry_after_on_a_failed_call_is_on_the_error(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    sim.inject(Fault(429, retry_after=1.5))

    with pytest.raises(RateLimitError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert caught.value.retry_after == 1.5


async def test_no_sleep_crosses_the_deadline(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    policy = RetryPolicy(
        max_attempts=50, initial_backoff=0.1, max_backoff=0.1, deadline=0.5
    )
    client = make_client(retry=policy)
    sim.inject(Fault(503, retry_after=0.15, times=50))

    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    elapsed = time.monotonic() - started

    assert elapsed < 0.55
    assert 2 <= caught.value.attempts <= 4


async def test_a_long_retry_after_ends_the_call_at_once(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    policy = RetryPolicy(deadline=1.0, max_retry_after=60)
    client = make_client(retry=policy)
    sim.inject(Fault(429, retry_after=5))

    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert time.monotonic() - started < 0.5
    assert caught.value.attempts == 1
    assert caught.value.retry_after == 5


async def test_cancelled_during_a_request_is_not_retried(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(status=None, delay=1.0))
    call = asyncio.ensure_future(client._call_json("GET", f"/v1/bulk/{bulk_key}"))
    await wait_until(lambda: api_requests(sim))

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.05)

    assert len(api_requests(sim)) == 1
    assert client.stats.retries == {}


async def test_cancelled_during_a_backoff_sleep_is_not_retried(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(retry=RetryPolicy(max_retry_after=10))
    sim.inject(Fault(503, retry_after=5, times=3))
    call = asyncio.ensure_future(client._call_json("GET", f"/v1/bulk/{bulk_key}"))
    await wait_until(lambda: client.stats.retries)

    started = time.monotonic()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    assert time.monotonic() - started < 0.1
    assert len(api_requests(sim)) == 1


async def test_the_deadline_also_shortens_an_attempt(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(timeout=5.0, retry=RetryPolicy(deadline=0.3))
    sim.inject(Fault(status=None, delay=2.0))

    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")

    assert 0.25 <= time.monotonic() - started < 1.0
    assert caught.value.timed_out
    assert caught.value.attempts == 1


async def test_a_409_with_an_idempotency_key_is_retried_until_the_first_is_done(
    client: ZuoraClient, sim: Any
) -> None:
    # 409: an earlier attempt with the same key is still in progress. The code
    # is of a category that is not retried by itself (30, a rule restriction).
    sim.inject(Fault(409, code="50000030", method="POST", times=2))

    body = await client._call_json(
        "POST", "/v1/bulk", data=upload_form, idempotency_key="upload-42"
    )

    assert len(body["bulkKey"]) == 32
    posts = api_requests(sim, "/v1/bulk")
    assert [r.status for r in posts] == [409, 409, 200]
    assert {r.headers["Idempotency-Key"] for r in posts} == {"upload-42"}
    assert client.stats.retries == {"HTTP 409": 2}


async def test_a_409_without_an_idempotency_key_is_not_retried(
    client: ZuoraClient, sim: Any, bulk_key: str
) -> None:
    sim.inject(Fault(409, code="50000030", method="PUT", times=2))

    with pytest.raises(InvalidRequestError) as caught:
        await client._call_json("PUT", f"/v1/bulk/{bulk_key}/stop")

    assert caught.value.status == 409
    assert caught.value.attempts == 1
    assert len(api_requests(sim, f"/v1/bulk/{bulk_key}/stop")) == 1
