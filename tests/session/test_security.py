"""The client secret and the tokens never show: not in a log line at any
level, not in a span, not in an error or a repr."""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from aiozuora import RetryPolicy, TransportError, ZuoraClient, track_id
from aiozuora.simulator import Fault, ZuoraSimulator

SENTINEL = "SENTINEL-s3cr3t-0f7c2a9e4b"


def texts_of(error: BaseException) -> list[str]:
    """Everything an error could print, its causes included."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), *map(str, current.args)]
        pending += [current.__cause__, current.__context__]
    return texts


def span_texts(exporter: InMemorySpanExporter) -> list[str]:
    texts: list[str] = []
    for span in exporter.get_finished_spans():
        texts += [span.name, str(span.status.description)]
        texts += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        for event in span.events:
            texts += [f"{k}={v}" for k, v in (event.attributes or {}).items()]
    return texts


async def test_secret_and_tokens_never_show(
    caplog: pytest.LogCaptureFixture,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.001)

    async with ZuoraSimulator(client_secret=SENTINEL) as sim:
        key = sim.seed_action("Processing", total=100)
        path = f"/v1/bulk/{key}"
        client = ZuoraClient(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=SENTINEL,
            retry=retry,
            timeout=0.2,
            tracer_provider=tracer_provider,
        )
        async with client:

            async def attempt(*faults: Fault) -> None:
                for fault in faults:
                    sim.inject(fault)
                try:
                    async with client._operation("zuora.test.op"):
                        await client._call_json("GET", path)
                except Exception as exc:
                    errors.append(exc)

            await attempt()
            await attempt(Fault(503))
            sim.expire_tokens()
            await attempt()
            await attempt(Fault(404))
            await attempt(Fault(401, times=2))
            await attempt(Fault(200, body="<html>oops</html>"))
            await attempt(Fault(status=None, delay=0.5, times=2))
            sim.expire_tokens()
            await attempt(Fault(500, path="/oauth/token", times=2))
            await attempt(Fault(200, body="html", path="/oauth/token"))
            with track_id("support-case-1"):
                await attempt(Fault(200, code="50000061", times=2))
            await asyncio.gather(*(attempt() for _ in range(5)))
            sim.revoke_client()
            await attempt()
            texts = [repr(client), repr(client._auth), str(client.stats)]

        tokens = {
            r.headers["Authorization"].removeprefix("Bearer ")
            for r in sim.requests
            if "Authorization" in r.headers
        }
        static = ZuoraClient(sim.base_url, access_token=next(iter(tokens)))
        async with static:
            try:
                await static._call_json("GET", path)
            except Exception as exc:
                errors.append(exc)
            texts += [repr(static), repr(static._auth)]

    assert len(tokens) >= 3
    assert len(errors) >= 6
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.levelno == logging.INFO for r in caplog.records)
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    texts += [caplog.text, *(r.getMessage() for r in caplog.records)]
    texts += span_texts(span_exporter)
    for error in errors:
        texts += texts_of(error)
    for secret in (SENTINEL, *tokens):
        leaks = [text for text in texts if secret in text]
        assert leaks == [], f"a secret shows in: {leaks[:3]}"


@pytest.fixture
def self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def self_signed_server(
    self_signed_cert: tuple[Path, Path],
) -> AsyncIterator[str]:
    """An https server on loopback whose certificate no CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed_cert)

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("callers_session", [False, True])
async def test_certificates_are_always_verified(
    self_signed_server: str, callers_session: bool
) -> None:
    # Even a session whose connector turns verification off does not carry
    # credentials to a server that cannot prove who it is.
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = ZuoraClient(
            self_signed_server,
            access_token="tok3n",
            session=session if callers_session else None,
        )
        async with client:
            with pytest.raises(TransportError, match="certificate") as caught:
                await client._call_json("GET", "/v1/bulk/abc")

    assert caught.value.attempts == 1
    assert client.stats.retries == {}
