"""Downloading response files: Authorization only for Zuora's own origin,
retries that start the file over, and a stalled read that times out."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiozuora import RetryPolicy, TransportError, ZuoraClient
from aiozuora.simulator import Fault, ZuoraSimulator

from .conftest import MakeClient


async def output_url(client: ZuoraClient, sim: Any) -> str:
    key = sim.seed_action("Completed", total=50)
    body = await client._call_json("GET", f"/v1/bulk/{key}")
    url: str = body["outputURL"]
    return url


def file_requests(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.path.startswith("/v1/files/")]


async def test_download_writes_the_file_and_counts_its_bytes(
    client: ZuoraClient, sim: Any
) -> None:
    url = await output_url(client, sim)
    dest = io.BytesIO()

    written = await client._download(url, dest)

    assert written == len(dest.getvalue()) > 0
    assert zipfile.is_zipfile(dest)
    (request,) = file_requests(sim)
    assert request.headers["Authorization"].startswith("Bearer ")


async def test_another_origin_gets_no_authorization(
    make_client: MakeClient,
) -> None:
    async with ZuoraSimulator(output_host="localhost") as sim:
        client = make_client(
            base_url=sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
        )
        url = await output_url(client, sim)
        assert url.startswith("http://localhost:")
        dest = io.BytesIO()

        await client._download(url, dest)

        assert zipfile.is_zipfile(dest)
        (request,) = file_requests(sim)
        assert "Authorization" not in request.headers
        assert "Zuora-Track-Id" in request.headers
        await client.close()


async def test_a_retried_download_starts_the_file_over(
    client: ZuoraClient, sim: Any
) -> None:
    url = await output_url(client, sim)
    sim.inject(Fault(503, path="/v1/files/*"))
    dest = io.BytesIO(b"left over from before" * 1000)

    written = await client._download(url, dest)

    assert dest.getvalue()[:2] == b"PK"
    assert len(dest.getvalue()) == written
    assert [r.status for r in file_requests(sim)] == [503, 200]


async def test_download_url_must_be_https_or_loopback(client: ZuoraClient) -> None:
    with pytest.raises(ValueError, match="only for loopback"):
        await client._download("http://files.example.com/f", io.BytesIO())


@pytest.fixture
async def stalling_server() -> AsyncIterator[str]:
    """A server that answers headers and a little of the body, then goes silent."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"success": '
        )
        await writer.drain()
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("kind", ["json", "download"])
async def test_a_silent_read_is_bounded_by_the_timeout(
    make_client: MakeClient, stalling_server: str, kind: str
) -> None:
    client = make_client(
        base_url=stalling_server,
        access_token="t",
        timeout=0.2,
        retry=RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.001),
    )

    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        if kind == "json":
            await client._call_json("GET", "/v1/bulk/abc")
        else:
            await client._download(f"{stalling_server}/v1/files/abc", io.BytesIO())

    assert caught.value.timed_out
    assert caught.value.attempts == 2
    assert 0.4 <= time.monotonic() - started < 1.5
