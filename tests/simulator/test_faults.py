"""Faults on demand, and the request log."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from aiozuora import MassActionStatus
from aiozuora.simulator import Fault, ZuoraSimulator
from aiozuora.simulator._faults import FaultBook

from .conftest import Api


async def test_a_500_fault_answers_zuoras_error_body_once(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    fault = api.sim.inject(Fault(500))
    status, headers, body = await api.call("GET", f"/v1/bulk/{key}")
    assert status == 500
    assert set(body) == {"reasons"}
    assert body["reasons"][0]["code"] == "50000060"
    assert len(headers["Zuora-Request-Id"]) == 36
    assert fault.hits == 1 and api.sim.faults == []
    assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 200


async def test_faults_do_not_hit_the_token_endpoint_unless_named(api: Api) -> None:
    api.sim.inject(Fault(503))
    await api.fetch_token()
    assert api.sim.requests[-1].fault is None
    api.sim.inject(Fault(429, path="/oauth/token", retry_after=2))
    status, headers, _ = await api.call(
        "POST",
        "/oauth/token",
        auth=False,
        data=api.credentials(),
    )
    assert status == 429 and headers["Retry-After"] == "2"
    assert len(api.sim.faults) == 1  # the 503 still waits for a /v1 request


@pytest.mark.parametrize(
    ("fault", "content_type", "check"),
    [
        (Fault(502, body="html"), "text/html", b"<html>"),
        (Fault(503, body="empty"), None, b""),
        (Fault(504, body="upstream timed out"), "text/plain", b"upstream timed out"),
    ],
)
async def test_non_json_bodies(
    api: Api, fault: Fault, content_type: str | None, check: bytes
) -> None:
    key = api.sim.seed_action("Processing")
    api.sim.inject(fault)
    status, headers, body = await api.call("GET", f"/v1/bulk/{key}")
    assert status == fault.status
    if content_type is None:
        assert body == b""
    else:
        assert headers["Content-Type"].startswith(content_type)
        assert body.startswith(check) if check == b"<html>" else body == check


async def test_429_with_retry_after_and_category_70(api: Api) -> None:
    api.sim.inject(Fault(429, retry_after=3))
    status, headers, body = await api.call("GET", "/v1/bulk/" + "a" * 32)
    assert status == 429
    assert headers["Retry-After"] == "3"
    assert body["success"] is False
    assert body["reasons"][0]["code"] == "50000070"
    api.sim.inject(Fault(503))
    assert "Retry-After" not in (await api.call("GET", "/v1/bulk/x"))[1]


async def test_200_with_a_category_code(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    api.sim.inject(Fault(200, code="50000061", message="Temporary error"))
    status, _, body = await api.call("PUT", f"/v1/bulk/{key}/stop")
    assert status == 200
    assert body["success"] is False
    assert body["reasons"] == [{"code": "50000061", "message": "Temporary error"}]
    assert api.sim.action(key).stop_requests == 0  # not applied


async def test_integer_code_is_sent_as_a_json_number(api: Api) -> None:
    api.sim.inject(Fault(200, code=50000050))
    body = (await api.call("GET", "/v1/bulk/x"))[2]
    assert body["reasons"][0]["code"] == 50000050


async def test_401_and_403_bodies(api: Api) -> None:
    api.sim.inject(Fault(401, message="Failed to get user info"))
    assert (await api.call("GET", "/v1/bulk/x"))[2] == {
        "message": "Failed to get user info"
    }
    api.sim.inject(Fault(403))
    status, _, body = await api.call("GET", "/v1/bulk/x")
    assert status == 403
    assert isinstance(body["code"], int) and body["message"]


async def test_method_path_and_times_choose_what_a_fault_hits(api: Api) -> None:
    key = api.sim.seed_action("Processing", records_per_second=0.001)
    api.sim.inject(Fault(500, method="PUT", path="/v1/bulk/*/stop", times=2))
    assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 200
    assert (await api.call("PUT", f"/v1/bulk/{key}/stop"))[0] == 500
    assert (await api.call("PUT", f"/v1/bulk/{key}/stop"))[0] == 500
    assert (await api.call("PUT", f"/v1/bulk/{key}/stop"))[2] == {"success": True}
    hit = [r.fault is not None for r in api.sim.requests if r.path.startswith("/v1")]
    assert hit == [False, True, True, False]


async def test_clear_faults(api: Api) -> None:
    api.sim.inject(Fault(500, times=5))
    api.sim.clear_faults()
    assert api.sim.faults == []
    assert (await api.call("GET", "/v1/bulk/x"))[0] == 200


# aiohttp's client resends an idempotent request (GET, PUT) once by itself when
# the connection closes without an answer, so two drops reach the caller.


async def test_drop_before_closes_the_connection_and_applies_nothing(
    api: Api,
) -> None:
    key = api.sim.seed_action("Processing", records_per_second=0.001)
    await api.fetch_token()
    api.sim.inject(Fault(drop="before", path="/v1/bulk/*/stop", times=2))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("PUT", f"/v1/bulk/{key}/stop")
    assert api.sim.action(key).status is MassActionStatus.PROCESSING
    assert api.sim.action(key).stop_requests == 0
    dropped = api.sim.requests[-2:]
    assert [(r.status, r.fault is not None) for r in dropped] == [(None, True)] * 2


async def test_one_drop_is_resent_by_aiohttp_and_answered(api: Api) -> None:
    key = api.sim.seed_action("Pending")
    await api.fetch_token()
    api.sim.inject(Fault(drop="before"))
    status, _, body = await api.call("GET", f"/v1/bulk/{key}")
    assert status == 200 and body["status"] == "Pending"
    assert [r.status for r in api.sim.requests[-2:]] == [None, 200]


async def test_drop_after_applies_the_stop_then_closes(api: Api) -> None:
    key = api.sim.seed_action("Processing", records_per_second=0.001)
    await api.fetch_token()
    api.sim.inject(Fault(status=None, drop="after", times=2))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("PUT", f"/v1/bulk/{key}/stop")
    snapshot = api.sim.action(key)
    assert snapshot.status is MassActionStatus.STOPPING
    assert snapshot.stop_requests == 2 and snapshot.stop_accepted
    body = await api.stop(key)
    assert "already Stopping" in body["reasons"][0]["message"]


async def test_delay_then_normal_answer(api: Api) -> None:
    key = api.sim.seed_action("Pending")
    await api.fetch_token()
    api.sim.inject(Fault(status=None, delay=0.2))
    started = time.monotonic()
    status, _, body = await api.call("GET", f"/v1/bulk/{key}")
    assert time.monotonic() - started >= 0.2
    assert status == 200 and body["status"] == "Pending"


async def test_delay_lets_a_client_time_out(api: Api) -> None:
    await api.fetch_token()
    api.sim.inject(Fault(status=None, delay=5))
    with pytest.raises(asyncio.TimeoutError):
        await api.call("GET", "/v1/bulk/x", timeout=aiohttp.ClientTimeout(total=0.1))


async def test_latency_delays_every_v1_request(
    http: aiohttp.ClientSession,
) -> None:
    async with ZuoraSimulator(latency=0.1) as sim:
        api = Api(sim, http)
        started = time.monotonic()
        await api.fetch_token()
        assert time.monotonic() - started < 0.1
        started = time.monotonic()
        await api.call("GET", "/v1/bulk/x")
        assert time.monotonic() - started >= 0.1


async def test_close_is_quick_with_delayed_and_dropped_requests_in_flight(
    http: aiohttp.ClientSession,
) -> None:
    sim = ZuoraSimulator()
    await sim.start()
    api = Api(sim, http)
    await api.fetch_token()
    sim.inject(Fault(status=None, delay=30, times=2))
    sim.inject(Fault(drop="before", delay=30))
    calls = [asyncio.ensure_future(api.call("GET", "/v1/bulk/x")) for _ in range(3)]
    for _ in range(100):
        if len(sim.requests) == 4:
            break
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await sim.close()
    assert time.monotonic() - started < 1.0
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, aiohttp.ClientError) for r in results), results
    await sim.close()  # idempotent


async def test_request_log(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    await api.call("GET", f"/v1/bulk/{key}", headers={"Zuora-Track-Id": "batch-1"})
    token, get = api.sim.requests
    assert (token.method, token.path, token.status) == ("POST", "/oauth/token", 200)
    assert (get.method, get.path, get.status) == ("GET", f"/v1/bulk/{key}", 200)
    assert get.headers["zuora-track-id"] == "batch-1"
    assert get.headers["AUTHORIZATION"].startswith("Bearer ")
    assert token.time <= get.time and get.fault is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 99}, "HTTP status"),
        ({"status": 101}, "HTTP status"),
        ({"status": "500"}, "HTTP status"),
        ({"body": b"x"}, "body must be"),
        ({"code": "123"}, "8-digit"),
        ({"retry_after": -1}, "retry_after"),
        ({"delay": float("nan")}, "delay"),
        ({"drop": "during"}, "drop must be"),
        ({"times": 0}, "times"),
        ({"times": 1.5}, "times"),
        ({"probability": 0}, "probability"),
        ({"probability": 1.5}, "probability"),
        ({"probability": float("nan")}, "probability"),
        ({"probability": True}, "probability"),
        ({"status": 503, "drop": "before"}, "no status"),
        ({"status": None}, "changes nothing"),
        ({"status": 200}, "needs a code"),
        ({"path": "v1/bulk"}, "start with '/'"),
    ],
)
def test_fault_refuses_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**kwargs)  # type: ignore[arg-type]


def test_inject_takes_only_faults() -> None:
    with pytest.raises(ValueError, match="takes a Fault"):
        ZuoraSimulator().inject("500")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("/v1/bulk/*", "/v1/bulk/abc", True),
        ("/v1/bulk/*", "/v1/bulk/abc/stop", False),
        ("/v1/bulk/*/stop", "/v1/bulk/abc/stop", True),
        ("/v1/**", "/v1/files/f1", True),
        ("/v1/bulk/a?c", "/v1/bulk/abc", True),
        ("/v1/bulk/a.c", "/v1/bulk/abc", False),
        ("/oauth/token", "/oauth/token", True),
    ],
)
def test_path_globs(pattern: str, path: str, hit: bool) -> None:
    assert Fault(path=pattern).matches("GET", path) is hit


def test_method_is_matched_in_any_case() -> None:
    fault = Fault(method="put")
    assert fault.matches("PUT", "/v1/bulk/a/stop")
    assert not fault.matches("GET", "/v1/bulk/a")


# -- random faults -------------------------------------------------------------


def test_random_faults_hit_their_share_and_never_the_same_request() -> None:
    book = FaultBook(seed=7)
    errors = book.add(Fault(500, probability=0.10, times=None))
    limits = book.add(Fault(429, probability=0.05, times=None))
    drops = book.add(Fault(drop="after", probability=0.02, times=None))
    hit = [book.take("GET", "/v1/bulk/k") for _ in range(20_000)]
    assert abs(errors.hits / 20_000 - 0.10) < 0.01
    assert abs(limits.hits / 20_000 - 0.05) < 0.008
    assert abs(drops.hits / 20_000 - 0.02) < 0.005
    # One request meets at most one fault, and unlimited faults stay.
    assert sum(h is not None for h in hit) == errors.hits + limits.hits + drops.hits
    assert book.pending == [errors, limits, drops]
    assert errors.remaining is None and not errors.exhausted


def test_a_random_fault_with_times_stops_after_that_many_hits() -> None:
    book = FaultBook()
    fault = book.add(Fault(503, probability=0.5, times=3))
    hits = [book.take("GET", "/v1/bulk/k") for _ in range(200)]
    assert hits.count(fault) == 3 and fault.exhausted and book.pending == []


def test_random_faults_only_draw_for_requests_they_match() -> None:
    book = FaultBook()
    fault = book.add(Fault(500, probability=0.5, times=None, method="PUT"))
    assert all(book.take("GET", "/v1/bulk/k") is None for _ in range(100))
    assert fault.hits == 0


def test_a_certain_fault_after_random_ones_takes_what_they_leave() -> None:
    book = FaultBook()
    rare = book.add(Fault(500, probability=0.25, times=None))
    always = book.add(Fault(503, times=None))
    hits = [book.take("GET", "/v1/bulk/k") for _ in range(400)]
    assert all(hit is not None for hit in hits)
    assert rare.hits + always.hits == 400 and 60 < rare.hits < 140


def test_the_seed_decides_which_requests_random_faults_hit() -> None:
    def pattern(seed: int) -> list[bool]:
        book = FaultBook(seed)
        book.add(Fault(500, probability=0.3, times=None))
        return [book.take("GET", "/v1/bulk/k") is not None for _ in range(100)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)


async def test_a_seeded_simulator_replays_the_same_random_faults(
    http: aiohttp.ClientSession,
) -> None:
    async def statuses(seed: int) -> list[int]:
        async with ZuoraSimulator(seed=seed) as sim:
            api = Api(sim, http)
            key = sim.seed_action("Processing", records_per_second=0.001)
            sim.inject(Fault(500, probability=0.2, times=None))
            sim.inject(Fault(429, retry_after=1, probability=0.1, times=None))
            return [(await api.call("GET", f"/v1/bulk/{key}"))[0] for _ in range(40)]

    first = await statuses(3)
    assert first == await statuses(3)
    assert {200, 500, 429} <= set(first)
