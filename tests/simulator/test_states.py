"""The state machine of a mass action, driven by a manual clock."""

from __future__ import annotations

import re

import aiohttp
import pytest

from aiozuora import MassActionStatus
from aiozuora.simulator import ZuoraSimulator

from .conftest import Api, ManualClock, unzip_single

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
COUNTS = ("totalCount", "processedCount", "successCount", "errorCount")


def counts(body: dict[str, object]) -> tuple[object, ...]:
    return tuple(body.get(name) for name in COUNTS)


async def test_seeded_pending_moves_to_processing_then_completed(
    api: Api, clock: ManualClock
) -> None:
    key = api.sim.seed_action("Pending", total=40)
    body = await api.get(key)
    assert body["status"] == "Pending" and body["success"] is True
    assert counts(body) == (None,) * 4
    for absent in ("startedOn", "endedOn", "outputURL", "outputSize", "outputType"):
        assert absent not in body
    assert TIMESTAMP.fullmatch(body["uploadedOn"])
    assert body["actionType"] == "UpdateAccountingCode"
    assert body["inputSize"] > 0 and body["uploadedBy"]

    clock.advance(10)
    body = await api.get(key)
    assert body["status"] == "Processing"
    assert counts(body) == ("40", "0", "0", "0")
    assert TIMESTAMP.fullmatch(body["startedOn"]) and "endedOn" not in body

    clock.advance(2.05)
    body = await api.get(key)
    assert counts(body) == ("40", "20", "18", "2")

    clock.advance(2)
    body = await api.get(key)
    assert body["status"] == "Completed"
    assert counts(body) == ("40", "40", "36", "4")
    assert TIMESTAMP.fullmatch(body["endedOn"])
    assert body["outputType"] == "(url:.csv.zip)"
    assert body["outputURL"].startswith(f"{api.sim.base_url}/v1/files/")
    assert body["outputSize"] > 0


async def test_stop_from_pending_passes_stopping_and_ends_without_a_file(
    api: Api, clock: ManualClock
) -> None:
    key = api.sim.seed_action("Pending", total=10)
    assert await api.stop(key) == {"success": True}
    body = await api.get(key)
    assert body["status"] == "Stopping"
    assert "outputURL" not in body
    clock.advance(5)
    body = await api.get(key)
    assert body["status"] == "Stopped"
    assert counts(body) == ("10", "0", "0", "0")
    assert "outputURL" not in body and "startedOn" not in body
    assert TIMESTAMP.fullmatch(body["endedOn"])
    snapshot = api.sim.action(key)
    assert snapshot.status is MassActionStatus.STOPPED
    assert not snapshot.has_file and snapshot.stop_requests == 1


async def test_stop_from_processing_freezes_counts_and_writes_a_file(
    api: Api, clock: ManualClock
) -> None:
    key = api.sim.seed_action("Processing", total=30, processed=10)
    assert await api.stop(key) == {"success": True}
    clock.advance(1)
    body = await api.get(key)
    assert body["status"] == "Stopping"
    assert counts(body) == ("30", "10", "9", "1")
    clock.advance(4)
    body = await api.get(key)
    assert body["status"] == "Stopped"
    assert counts(body) == ("30", "10", "9", "1")

    status, headers, archive = await api.call("GET", body["outputURL"])
    assert status == 200
    assert headers["Content-Type"] == "application/zip;charset=UTF-8"
    assert len(archive) == body["outputSize"]
    name, text = unzip_single(archive)
    assert name.endswith(".csv")
    lines = text.splitlines()
    assert lines[0].endswith(",Success,Error Message")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 30
    success = [row[-2] for row in rows]
    assert success.count("Y") == 9 and success.count("N") == 1
    assert success[10:] == [""] * 20
    failed = next(row for row in rows if row[-2] == "N")
    assert failed[-1]


async def test_stop_is_refused_with_category_30_in_final_states(
    api: Api, clock: ManualClock
) -> None:
    done = api.sim.seed_action("Completed", total=5)
    body = await api.stop(done)
    assert body["success"] is False
    assert body["reasons"][0]["code"] == "50000030"
    assert "Completed" in body["reasons"][0]["message"]
    assert len(body["requestId"]) == 36 and body["processId"]

    failed = api.sim.seed_action("Failed")
    assert (await api.stop(failed))["reasons"][0]["code"] == "50000030"

    stopping = api.sim.seed_action("Stopping", total=5)
    body = await api.stop(stopping)
    assert body["success"] is False
    assert "already Stopping" in body["reasons"][0]["message"]
    stopped = api.sim.seed_action("Stopped", total=5)
    assert "already Stopped" in (await api.stop(stopped))["reasons"][0]["message"]
    assert api.sim.action(stopping).stop_requests == 1


async def test_unknown_bulk_key_is_category_40_in_a_200(api: Api) -> None:
    for method, path in (("GET", "/v1/bulk/{}"), ("PUT", "/v1/bulk/{}/stop")):
        status, headers, body = await api.call(method, path.format("0" * 32))
        assert status == 200
        assert body["success"] is False
        assert body["reasons"][0]["code"] == "50000040"
        assert body["requestId"] == headers["Zuora-Request-Id"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Pending", (None, None, None, None)),
        ("Processing", ("20", "10", "9", "1")),
        ("Stopping", ("20", "10", "9", "1")),
        ("Stopped", ("20", "10", "9", "1")),
        ("Completed", ("20", "20", "18", "2")),
        ("Failed", ("20", "0", "0", "0")),
    ],
)
async def test_seed_action_in_every_state(
    api: Api, status: str, expected: tuple[object, ...]
) -> None:
    key = api.sim.seed_action(status, total=20)
    body = await api.get(key)
    assert body["status"] == status
    assert counts(body) == expected
    snapshot = api.sim.action(key)
    assert snapshot.status.value == status
    assert snapshot.has_file is (status in ("Stopped", "Completed"))
    assert ("outputURL" in body) is snapshot.has_file
    assert ("endedOn" in body) is (status in ("Stopped", "Completed", "Failed"))


async def test_seeded_action_keeps_its_own_speed(api: Api, clock: ManualClock) -> None:
    key = api.sim.seed_action(
        "Processing", total=100, processed=0, records_per_second=1000
    )
    clock.advance(0.05)
    assert api.sim.action(key).processed == 50
    frozen = api.sim.seed_action(
        "Stopping", total=10, processed=3, stopping_seconds=float("inf")
    )
    clock.advance(1e6)
    assert api.sim.action(frozen).status is MassActionStatus.STOPPING


async def test_an_infinite_rate_finishes_as_soon_as_processing_starts(
    api: Api, clock: ManualClock
) -> None:
    key = api.sim.seed_action("Pending", total=7, records_per_second=float("inf"))
    assert api.sim.action(key).status is MassActionStatus.PENDING
    clock.advance(10)
    snapshot = api.sim.action(key)
    assert snapshot.status is MassActionStatus.COMPLETED and snapshot.processed == 7


async def test_seeded_records_look_like_the_action_type(api: Api) -> None:
    expected = {
        "UpdateAccountingCode": ("Object Key", "Object Type"),
        "CreateRevenueSchedule": ("Revenue Schedule Number",),
        "UpdateRevenueSchedule": ("Revenue Schedule Number",),
        "DeleteRevenueSchedule": ("Revenue Schedule Number",),
        "ImportFXRate": ("Rate Set Name", "Currency (From)", "Exchange Rate"),
        "MPU": ("Billing Account ID", "Payment Amount", "Payment ID", "Payment Status"),
    }
    for action_type, columns in expected.items():
        key = api.sim.seed_action("Completed", total=3, action_type=action_type)
        archive = api.sim.response_file(key)
        assert archive is not None
        header = unzip_single(archive)[1].splitlines()[0]
        for column in (*columns, "Success", "Error Message"):
            assert column in header, (action_type, column)
        assert (await api.get(key))["actionType"] == action_type


async def test_seed_action_with_a_chosen_bulk_key(api: Api) -> None:
    key = api.sim.seed_action("Processing", bulk_key="abc123")
    assert key == "abc123"
    assert (await api.get("abc123"))["status"] == "Processing"
    with pytest.raises(ValueError, match="already exists"):
        api.sim.seed_action(bulk_key="abc123")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "Running"}, "status must be one of"),
        ({"status": 3}, "status must be one of"),
        ({"total": -1}, "total must be a whole number"),
        ({"processed": -2}, "processed must be a whole number"),
        ({"total": 5, "processed": 6}, "must not exceed total"),
        ({"status": "Completed", "total": 5, "processed": 4}, "every record"),
        ({"status": "Pending", "processed": 1}, "Pending"),
        ({"action_type": "Nope"}, "action_type must be one of"),
        ({"bulk_key": "a/b"}, "letters and digits"),
        ({"records_per_second": -1}, "records_per_second"),
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"stopping_seconds": float("nan")}, "stopping_seconds"),
    ],
)
def test_seed_action_refuses_bad_arguments(
    kwargs: dict[str, object], message: str
) -> None:
    sim = ZuoraSimulator()
    with pytest.raises(ValueError, match=message):
        sim.seed_action(**kwargs)  # type: ignore[arg-type]


def test_action_of_an_unknown_key_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no mass action"):
        ZuoraSimulator().action("missing")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pending_seconds": -1}, "pending_seconds"),
        ({"records_per_second": 0}, "records_per_second"),
        ({"failure_rate": -0.1}, "failure_rate"),
        ({"concurrency_limit": 0}, "concurrency_limit"),
        ({"token_ttl": 0}, "token_ttl"),
        ({"latency": float("inf")}, "latency"),
        ({"port": 70000}, "port"),
        ({"output_host": "http://x/"}, "output_host"),
        ({"clock": 5}, "clock"),
    ],
)
def test_constructor_refuses_bad_options(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ZuoraSimulator(**kwargs)  # type: ignore[arg-type]


async def test_real_clock_moves_actions_on_its_own(
    http: aiohttp.ClientSession,
) -> None:
    async with ZuoraSimulator(
        pending_seconds=0, records_per_second=1e6, failure_rate=0
    ) as sim:
        key = sim.seed_action("Pending", total=10)
        body = await Api(sim, http).get(key)
        assert body["status"] == "Completed"
        assert counts(body) == ("10", "10", "10", "0")
