"""POST /v1/bulk: reading uploads, refusing bad ones, and idempotency."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import zipfile

import aiohttp
import pytest

from aiozuora import MassActionStatus
from aiozuora.simulator import Fault

from .conftest import Api, ManualClock, csv_bytes, unzip_single


def zipped(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


async def test_upload_runs_through_to_a_response_file_with_the_columns_kept(
    api: Api, clock: ManualClock
) -> None:
    content = csv_bytes(20, header="Object Key,#Note")
    status, headers, body = await api.submit(
        content,
        {
            "actionType": "UpdateAccountingCode",
            "checksum": hashlib.md5(content).hexdigest(),
        },
    )
    assert status == 200
    assert body["success"] is True
    key = body["bulkKey"]
    assert len(key) == 32 and key.isalnum()
    assert len(headers["Zuora-Request-Id"]) == 36

    state = await api.get(key)
    assert state["status"] == "Pending" and state["inputSize"] == len(content)
    clock.advance(10 + 2)
    state = await api.get(key)
    assert state["status"] == "Completed"
    assert state["successCount"] == "18" and state["errorCount"] == "2"

    _, _, archive = await api.call("GET", state["outputURL"])
    name, text = unzip_single(archive)
    assert name == "records_response.csv"
    lines = text.splitlines()
    assert lines[0] == "Object Key,#Note,Success,Error Message"
    assert lines[1].startswith("K0000,Invoice Item,Y,")
    assert [line.split(",")[2] for line in lines[1:]].count("N") == 2


async def test_zip_holding_one_csv_is_read(api: Api) -> None:
    content = zipped(("inner.csv", csv_bytes(3)))
    status, _, body = await api.submit(
        content,
        {"actionType": "ImportFXRate", "checksum": hashlib.md5(content).hexdigest()},
        filename="upload.zip",
    )
    assert status == 200 and body["success"] is True
    snapshot = api.sim.action(body["bulkKey"])
    assert snapshot.total == 3 and snapshot.action_type == "ImportFXRate"
    assert (await api.get(body["bulkKey"]))["inputSize"] == len(content)


async def test_gzipped_request_body_is_inflated(api: Api) -> None:
    form = aiohttp.FormData()
    form.add_field("file", csv_bytes(2), filename="a.csv")
    form.add_field("params", json.dumps({"actionType": "MPU"}))
    payload = form()
    raw = b"".join([chunk async for chunk in _chunks(payload)])
    status, _, body = await api.call(
        "POST",
        "/v1/bulk",
        data=gzip.compress(raw),
        headers={
            "Content-Type": payload.content_type,
            "Content-Encoding": "gzip",
        },
    )
    assert status == 200 and body["success"] is True
    assert api.sim.action(body["bulkKey"]).total == 2


async def _chunks(payload: aiohttp.payload.Payload):  # type: ignore[no-untyped-def]
    class Sink:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        async def write(self, data: bytes) -> None:
            self.parts.append(bytes(data))

    sink = Sink()
    await payload.write(sink)  # type: ignore[arg-type]
    for part in sink.parts:
        yield part


@pytest.mark.parametrize(
    ("content", "params", "code", "words"),
    [
        (b"a\n1\n", {"actionType": "Bogus"}, "50000020", "actionType"),
        (b"a\n1\n", {}, "50000022", "actionType is required"),
        (b"a\n1\n", "not json", "50000020", "JSON"),
        (b"a\n1\n", "[1]", "50000020", "JSON"),
        (b"a\n1\n", {"actionType": "MPU", "extra": 1}, "50000021", "extra"),
        (
            b"a\n1\n",
            {"actionType": "MPU", "checksum": "0" * 32},
            "50000020",
            "checksum does not match",
        ),
        (b"a\n1\n", {"actionType": "MPU", "checksum": "abc"}, "50000020", "32"),
        (b"\xff\xfe\x00a", {"actionType": "MPU"}, "50000020", ""),
        (b"PK\x03\x04broken", {"actionType": "MPU"}, "50000020", "zip"),
        (
            zipped(("a.csv", b"a\n1\n"), ("b.csv", b"a\n1\n")),
            {"actionType": "MPU"},
            "50000020",
            "exactly one",
        ),
        (zipped(("a.txt", b"a\n1\n")), {"actionType": "MPU"}, "50000020", "one"),
    ],
)
async def test_bad_uploads_are_refused_with_success_false(
    api: Api, content: bytes, params: object, code: str, words: str
) -> None:
    status, _, body = await api.submit(content, params)  # type: ignore[arg-type]
    assert status == 200
    assert body["success"] is False
    assert body["reasons"][0]["code"] == code
    assert words in body["reasons"][0]["message"]
    assert api.sim.bulk_keys == []


async def test_missing_parts_are_category_22(api: Api) -> None:
    form = aiohttp.FormData()
    form.add_field("params", json.dumps({"actionType": "MPU"}))
    body = (await api.call("POST", "/v1/bulk", data=form))[2]
    assert body["reasons"][0] == {
        "code": "50000022",
        "message": "The file part is missing.",
    }
    form = aiohttp.FormData()
    form.add_field("file", b"a\n1\n", filename="a.csv")
    body = (await api.call("POST", "/v1/bulk", data=form))[2]
    assert body["reasons"][0]["code"] == "50000022"


async def test_files_over_4_mb_are_refused(api: Api) -> None:
    line = b"K" * 99 + b"\n"
    content = b"Object Key\n" + line * (4 * 1024 * 1024 // len(line) + 1)
    body = (await api.submit(content))[2]
    assert body["success"] is False
    assert "4 MB" in body["reasons"][0]["message"]


async def test_a_body_beyond_what_the_server_reads_is_a_zuora_shaped_413(
    api: Api,
) -> None:
    status, _, body = await api.submit(b"x" * (9 * 1024 * 1024))
    assert status == 413
    assert body["success"] is False and body["reasons"][0]["code"] == "50000020"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"Object Key,Object Type\r\n",
        b",\r\n1,2\r\n",
        b"a,a\r\n1,2\r\n",
        b"a\r\n1,2\r\n",
    ],
    ids=["empty", "header-only", "blank-header", "duplicate-column", "long-row"],
)
async def test_unprocessable_files_are_accepted_then_fail(
    api: Api, clock: ManualClock, content: bytes
) -> None:
    body = (await api.submit(content))[2]
    assert body["success"] is True
    key = body["bulkKey"]
    assert (await api.get(key))["status"] == "Pending"
    clock.advance(10)
    state = await api.get(key)
    assert state["status"] == "Failed"
    assert state["processedCount"] == "0" and "outputURL" not in state
    assert "endedOn" in state
    snapshot = api.sim.action(key)
    assert snapshot.failure_reason and not snapshot.has_file
    assert (await api.stop(key))["reasons"][0]["code"] == "50000030"


async def test_group_id_failure_skips_the_rest_of_the_group(
    api: Api, clock: ManualClock
) -> None:
    rows = ["Group ID,Object Key"] + [
        f"{'G1' if i >= 9 else ''},K{i}" for i in range(14)
    ]
    body = (await api.submit(("\n".join(rows) + "\n").encode()))[2]
    clock.advance(10 + 2)
    state = await api.get(body["bulkKey"])
    assert state["status"] == "Completed"
    # Row 10 (index 9) fails by the 1-in-10 rate; rows 11-14 share its group.
    assert state["errorCount"] == "5" and state["successCount"] == "9"
    _, _, archive = await api.call("GET", state["outputURL"])
    lines = unzip_single(archive)[1].splitlines()
    assert lines[10].split(",")[2:] == ["N", "The accounting code is not active."]
    for line in lines[11:]:
        assert line.split(",")[2:] == [
            "N",
            "A previous row with the same Group ID failed",
        ]


async def test_idempotency_key_replays_the_stored_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "key-1"}
    first = await api.submit(csv_bytes(2), headers=headers)
    again = await api.submit(csv_bytes(2), headers=headers)
    assert first[0] == again[0] == 200
    assert first[2] == again[2]
    assert first[1]["Zuora-Request-Id"] != again[1]["Zuora-Request-Id"]
    assert len(api.sim.bulk_keys) == 1
    refused = await api.submit(
        b"a\n1\n", {"actionType": "Nope"}, headers={"Idempotency-Key": "k2"}
    )
    replay = await api.submit(b"a\n1\n", headers={"Idempotency-Key": "k2"})
    assert refused[2] == replay[2] and replay[2]["success"] is False


async def test_idempotency_key_still_in_progress_is_409(api: Api) -> None:
    await api.fetch_token()
    api.sim.inject(Fault(status=None, delay=0.3, method="POST"))
    headers = {"Idempotency-Key": "slow"}
    first = asyncio.ensure_future(api.submit(csv_bytes(1), headers=headers))
    for _ in range(100):
        if api.sim.requests[-1].path == "/v1/bulk":
            break
        await asyncio.sleep(0.01)
    status, _, body = await api.submit(csv_bytes(1), headers=headers)
    assert status == 409 and body["success"] is False
    assert (await first)[2]["success"] is True
    assert len(api.sim.bulk_keys) == 1


async def test_idempotency_key_reused_elsewhere_is_422(api: Api) -> None:
    await api.submit(csv_bytes(1), headers={"Idempotency-Key": "k"})
    status, _, body = await api.call(
        "PATCH", "/v1/bulk", headers={"Idempotency-Key": "k"}
    )
    assert status == 422 and body["success"] is False


async def test_drop_after_on_upload_keeps_the_answer_for_the_retry(api: Api) -> None:
    await api.fetch_token()
    api.sim.inject(Fault(status=None, drop="after", method="POST"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.submit(csv_bytes(1), headers={"Idempotency-Key": "retry-me"})
    (key,) = api.sim.bulk_keys
    body = (await api.submit(csv_bytes(1), headers={"Idempotency-Key": "retry-me"}))[2]
    assert body == {"bulkKey": key, "success": True}
    assert api.sim.action(key).status is MassActionStatus.PENDING


async def test_an_overlong_idempotency_key_is_refused(api: Api) -> None:
    status, _, body = await api.submit(
        csv_bytes(1), headers={"Idempotency-Key": "k" * 256}
    )
    assert status == 400 and body["reasons"][0]["code"] == "50000020"
