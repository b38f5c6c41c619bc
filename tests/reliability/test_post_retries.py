"""A POST is retried only when that cannot start the same work twice."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from aiozuora import NotFoundError, TransportError, ZuoraClient
from aiozuora.simulator import Fault

CSV = b"Object Key,Object Type\r\nK1,Invoice Item\r\n"


def upload() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", CSV, filename="records.csv", content_type="text/csv")
    form.add_field("params", json.dumps({"actionType": "UpdateAccountingCode"}))
    return form


async def test_a_post_with_the_callers_idempotency_key_is_retried_once_applied(
    client: ZuoraClient, sim: Any
) -> None:
    sim.inject(Fault(status=None, drop="after", method="POST", times=2))
    body = await client.request(
        "POST", "/v1/bulk", data=upload, headers={"idempotency-key": "batch-7-file-1"}
    )
    posts = [r for r in sim.requests if r.method == "POST" and r.path == "/v1/bulk"]
    assert len(posts) == 3
    assert {r.headers["Idempotency-Key"] for r in posts} == {"batch-7-file-1"}
    # Three uploads reached the simulator; one mass action came of them.
    assert sim.bulk_keys == [body["bulkKey"]]


async def test_a_post_without_a_key_is_not_retried_once_it_may_have_landed(
    client: ZuoraClient, sim: Any
) -> None:
    sim.inject(Fault(status=None, drop="after", method="POST"))
    with pytest.raises(TransportError) as caught:
        await client.request("POST", "/v1/bulk", data=upload)
    assert caught.value.attempts == 1
    # The upload was applied: retrying would have started a second action.
    assert len(sim.bulk_keys) == 1


async def test_a_bad_idempotency_key_header_is_refused_before_any_request(
    client: ZuoraClient, sim: Any
) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key is 1 to 255 printable"):
        await client.request(
            "POST", "/v1/bulk", data=upload, headers={"Idempotency-Key": "é" * 3}
        )
    assert sim.requests == []


async def test_a_failed_submit_names_its_key_so_that_it_can_be_asked_again(
    client: ZuoraClient, sim: Any
) -> None:
    # Every attempt lands, and every answer is lost.
    sim.inject(Fault(status=None, drop="after", method="POST", times=4))
    with pytest.raises(TransportError) as caught:
        await client.mass_actions.submit(CSV, "UpdateAccountingCode")
    key = caught.value.idempotency_key
    assert key is not None and caught.value.attempts == 4
    (created,) = sim.bulk_keys

    # Asked again with that key, Zuora answers with the first upload's result.
    again = await client.mass_actions.submit(
        CSV, "UpdateAccountingCode", idempotency_key=key
    )
    assert again == created and sim.bulk_keys == [created]


async def test_a_call_without_a_key_names_none(client: ZuoraClient, sim: Any) -> None:
    sim.inject(Fault(404))
    with pytest.raises(NotFoundError) as caught:
        await client.request("GET", "/v1/bulk/abc")
    assert caught.value.idempotency_key is None
