"""What every answer carries: ids, limits headers, compression, error shapes."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid

import aiohttp
import pytest

from aiozuora.simulator import Fault, ZuoraSimulator

from .conftest import Api, ManualClock


async def test_every_answer_has_a_fresh_zuora_request_id(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    ids = set()
    for method, path in (
        ("GET", f"/v1/bulk/{key}"),
        ("PUT", f"/v1/bulk/{key}/stop"),
        ("GET", "/v1/bulk/unknown"),
        ("GET", "/v1/nowhere"),
    ):
        _, headers, _ = await api.call(method, path)
        ids.add(headers["Zuora-Request-Id"])
        uuid.UUID(headers["Zuora-Request-Id"])
    assert len(ids) == 4
    assert all(len(value) == 36 for value in ids)


async def test_track_id_is_echoed_only_when_sent(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    _, headers, _ = await api.call(
        "GET", f"/v1/bulk/{key}", headers={"Zuora-Track-Id": "abc-123"}
    )
    assert headers["Zuora-Track-Id"] == "abc-123"
    _, headers, _ = await api.call("GET", f"/v1/bulk/{key}")
    assert "Zuora-Track-Id" not in headers
    api.sim.inject(Fault(500))
    _, headers, _ = await api.call(
        "GET", f"/v1/bulk/{key}", headers={"Zuora-Track-Id": "on-errors-too"}
    )
    assert headers["Zuora-Track-Id"] == "on-errors-too"


@pytest.mark.parametrize("value", ["x" * 65, "a:b", "semi;colon", "quote'd"])
async def test_a_track_id_zuora_would_not_accept_is_refused(
    api: Api, value: str
) -> None:
    status, _, body = await api.call(
        "GET", "/v1/bulk/x", headers={"Zuora-Track-Id": value}
    )
    assert status == 400
    assert body["reasons"][0]["code"] == "50000020"
    assert "Zuora-Track-Id" in body["reasons"][0]["message"]


async def test_rate_and_concurrency_headers(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    _, first, _ = await api.call("GET", f"/v1/bulk/{key}")
    _, second, _ = await api.call("GET", f"/v1/bulk/{key}")
    assert first["RateLimit-Limit"].startswith("50000, 50000;w=60")
    assert int(second["RateLimit-Remaining"]) == int(first["RateLimit-Remaining"]) - 1
    assert 0 < int(first["RateLimit-Reset"]) <= 60
    assert first["Concurrency-Limit-Type"] == "Default"
    assert first["Concurrency-Limit-Limit"] == "40"
    assert first["Concurrency-Limit-Remaining"] == "39"


async def test_concurrency_limit_answers_429_with_retry_after(
    http: aiohttp.ClientSession,
) -> None:
    async with ZuoraSimulator(concurrency_limit=2) as sim:
        api = Api(sim, http)
        await api.fetch_token()
        sim.inject(Fault(status=None, delay=0.3, times=2))
        slow = [asyncio.ensure_future(api.call("GET", "/v1/bulk/x")) for _ in range(2)]
        for _ in range(100):
            if len(sim.requests) == 3:
                break
            await asyncio.sleep(0.01)
        status, headers, body = await api.call("GET", "/v1/bulk/x")
        assert status == 429
        assert headers["Retry-After"] == "1"
        assert headers["Concurrency-Limit-Remaining"] == "0"
        assert body["success"] is False
        assert body["reasons"][0]["code"] == "50000070"
        assert [r[0] for r in await asyncio.gather(*slow)] == [200, 200]
        # The token endpoint is not bound by the concurrency limit.
        sim.inject(Fault(status=None, delay=0.3, times=2))
        slow = [asyncio.ensure_future(api.call("GET", "/v1/bulk/x")) for _ in range(2)]
        await asyncio.sleep(0.05)
        await api.fetch_token()
        await asyncio.gather(*slow)


async def test_gzip_only_when_asked_and_over_1000_bytes(api: Api) -> None:
    api.sim.inject(Fault(500, message="x" * 2000))
    _, headers, raw = await api.call(
        "GET", "/v1/bulk/x", headers={"Accept-Encoding": "gzip"}
    )
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["reasons"][0]["message"] == "x" * 2000

    api.sim.inject(Fault(500, message="x" * 2000))
    _, headers, body = await api.call(
        "GET", "/v1/bulk/x", headers={"Accept-Encoding": "identity"}
    )
    assert "Content-Encoding" not in headers
    assert body["reasons"][0]["message"] == "x" * 2000

    key = api.sim.seed_action("Processing")
    _, headers, body = await api.call(
        "GET", f"/v1/bulk/{key}", headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in headers  # a status body is small
    assert body["status"] == "Processing"


async def test_response_files_are_not_gzipped(api: Api) -> None:
    key = api.sim.seed_action("Completed", total=500)
    url = (await api.get(key))["outputURL"]
    _, headers, raw = await api.call("GET", url, headers={"Accept-Encoding": "gzip"})
    assert len(raw) > 1000 and "Content-Encoding" not in headers


async def test_unknown_routes_and_methods_get_zuora_shaped_errors(api: Api) -> None:
    status, headers, body = await api.call("GET", "/v1/nowhere")
    assert status == 404 and body["reasons"][0]["code"] == "50000040"
    assert len(headers["Zuora-Request-Id"]) == 36
    status, _, body = await api.call("DELETE", "/v1/bulk/abc")
    assert status == 405 and body["reasons"][0]["code"] == "50000045"
    status, _, body = await api.call("GET", "/", auth=False)
    assert status == 404 and body["success"] is False


class BreakableClock(ManualClock):
    broken = False

    def __call__(self) -> float:
        if self.broken:
            raise RuntimeError("clock stopped")
        return super().__call__()


async def test_an_internal_failure_is_a_zuora_500_without_a_traceback(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    clock = BreakableClock()
    async with ZuoraSimulator(clock=clock) as sim:
        api = Api(sim, http)
        key = sim.seed_action("Processing")
        await api.fetch_token()
        clock.broken = True
        status, headers, raw = await api.call("GET", f"/v1/bulk/{key}")
        assert status == 500
        assert set(raw) == {"reasons"}
        assert "Traceback" not in json.dumps(raw) and "clock stopped" not in json.dumps(
            raw
        )
        assert len(headers["Zuora-Request-Id"]) == 36
    assert "clock stopped" in caplog.text
