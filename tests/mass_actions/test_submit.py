"""submit: the upload Zuora expects, refusals before any request, and
retries that never start a second action."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest

from aiozuora import MASS_ACTION_TYPES, MassActionStatus, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator

CSV = (
    b"Object Key,Object Type,Deferred Revenue Accounting Code\r\n"
    b"8a8082c45f4f0b0e015f5b9ac0661b87,Invoice Item,DR-100\r\n"
    b"8a8082c45f4f0b0e015f5b9ac0661b88,Invoice Item,DR-200\r\n"
)


def posts(sim: ZuoraSimulator) -> list[object]:
    return [r for r in sim.requests if r.method == "POST" and r.path == "/v1/bulk"]


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def test_submit_bytes_starts_an_action(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = await client.mass_actions.submit(CSV, "UpdateAccountingCode")

    state = sim.action(key)
    assert state.total == 2
    assert state.action_type == "UpdateAccountingCode"
    (post,) = posts(sim)
    assert post.headers["Content-Type"].startswith("multipart/form-data")
    assert uuid.UUID(post.headers["Idempotency-Key"]).version == 4
    action = await client.mass_actions.get(key)
    assert action.action_type == "UpdateAccountingCode"
    assert action.input_size == len(CSV)
    assert isinstance(action.status, MassActionStatus)


async def test_submit_a_path_a_file_object_and_a_zip(
    sim: ZuoraSimulator, client: ZuoraClient, tmp_path: Path
) -> None:
    path = tmp_path / "codes.csv"
    path.write_bytes(CSV)
    archive = tmp_path / "codes.zip"
    archive.write_bytes(zipped({"codes.csv": CSV}))

    from_path = await client.mass_actions.submit(path, "UpdateAccountingCode")
    from_str = await client.mass_actions.submit(str(path), "updateaccountingcode")
    with path.open("rb") as handle:
        from_handle = await client.mass_actions.submit(handle, "UpdateAccountingCode")
    from_zip = await client.mass_actions.submit(archive, "UpdateAccountingCode")

    keys = {from_path, from_str, from_handle, from_zip}
    assert len(keys) == 4
    assert all(sim.action(key).total == 2 for key in keys)
    keys_sent = {r.headers["Idempotency-Key"] for r in posts(sim)}
    assert len(keys_sent) == 4


async def test_a_lost_answer_is_retried_with_the_same_key_and_one_action(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    sim.inject(Fault(drop="after", method="POST", path="/v1/bulk"))

    key = await client.mass_actions.submit(CSV, "ImportFXRate", idempotency_key="k-1")

    sent = posts(sim)
    assert len(sent) == 2
    assert {r.headers["Idempotency-Key"] for r in sent} == {"k-1"}
    assert sim.bulk_keys == [key]
    assert sim.action(key).action_type == "ImportFXRate"


@pytest.mark.parametrize(
    ("content", "action_type", "message"),
    [
        (b"", "UpdateAccountingCode", "empty"),
        (b"\xef\xbb\xbf \r\n", "UpdateAccountingCode", "empty"),
        (b"a" * (4 * 1024 * 1024 + 1), "UpdateAccountingCode", "4 MB"),
        (CSV, "UpdateEverything", "unknown mass action type"),
        (CSV, "", "unknown mass action type"),
        (zipped({"a.csv": CSV, "b.csv": CSV}), "MPU", "exactly one .csv"),
        (zipped({"a.txt": CSV}), "MPU", "exactly one .csv"),
        (zipped({"a.csv": b""}), "MPU", "empty"),
        (b"PK\x03\x04garbage", "MPU", "not a readable zip"),
    ],
    ids=[
        "empty",
        "blank",
        "too-big",
        "unknown-type",
        "no-type",
        "two-csvs",
        "no-csv",
        "empty-csv",
        "bad-zip",
    ],
)
async def test_unusable_uploads_are_refused_before_any_request(
    sim: ZuoraSimulator,
    client: ZuoraClient,
    content: bytes,
    action_type: str,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.mass_actions.submit(content, action_type)

    assert sim.requests == []


async def test_a_big_file_on_disk_is_refused_without_reading_it(
    sim: ZuoraSimulator, client: ZuoraClient, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)

    with pytest.raises(ValueError, match="4 MB"):
        await client.mass_actions.submit(path, "UpdateAccountingCode")
    with pytest.raises(ValueError, match="no mass action file"):
        await client.mass_actions.submit(tmp_path / "missing.csv", "MPU")

    assert sim.requests == []


async def test_text_mode_files_and_bad_keys_are_refused(
    sim: ZuoraSimulator, client: ZuoraClient, tmp_path: Path
) -> None:
    path = tmp_path / "codes.csv"
    path.write_bytes(CSV)

    with path.open("r") as handle, pytest.raises(TypeError, match="binary"):
        await client.mass_actions.submit(handle, "MPU")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idempotency key"):
        await client.mass_actions.submit(CSV, "MPU", idempotency_key="x" * 256)
    with pytest.raises(ValueError, match="idempotency key"):
        await client.mass_actions.submit(CSV, "MPU", idempotency_key="")

    assert sim.requests == []


def test_the_known_action_types() -> None:
    assert MASS_ACTION_TYPES == (
        "UpdateAccountingCode",
        "CreateRevenueSchedule",
        "UpdateRevenueSchedule",
        "DeleteRevenueSchedule",
        "ImportFXRate",
        "MPU",
    )
