"""Running the simulator on its own: run_forever and ``python -m``."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest

from aiozuora.simulator import ZuoraSimulator
from aiozuora.simulator.__main__ import main
from aiozuora.simulator._simulator import _url_host

from .conftest import Api


async def test_run_forever_serves_until_cancelled(
    http: aiohttp.ClientSession,
) -> None:
    sim = ZuoraSimulator()
    task = asyncio.ensure_future(sim.run_forever())
    for _ in range(100):
        try:
            sim.base_url  # noqa: B018 - raises until started
            break
        except RuntimeError:
            await asyncio.sleep(0.01)
    await Api(sim, http).fetch_token()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(aiohttp.ClientConnectionError):
        await Api(sim, http).fetch_token()


async def test_start_twice_is_refused() -> None:
    async with ZuoraSimulator() as sim:
        with pytest.raises(RuntimeError, match="already running"):
            await sim.start()


def test_base_url_before_start_says_so() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        ZuoraSimulator().base_url  # noqa: B018


async def test_python_dash_m_prints_the_url_and_credentials(
    http: aiohttp.ClientSession,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiozuora.simulator",
        "--port",
        "0",
        "--client-id",
        "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "--client-secret",
        "s3cret",
        "--verbose",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        client_id = (await process.stdout.readline()).decode().split()[-1]
        secret = (await process.stdout.readline()).decode().split()[-1]
        assert (client_id, secret) == (
            "0" * 8 + "-0000-4000-8000-" + "0" * 12,
            "s3cret",
        )
        async with http.post(
            f"{url}/oauth/token",
            data={
                "client_id": client_id,
                "client_secret": secret,
                "grant_type": "client_credentials",
            },
        ) as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0
    assert b"Traceback" not in stderr
    assert b"POST /oauth/token: 200" in stderr


def test_program_refuses_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--failure-rate", "2"]) == 2
    assert "failure_rate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "url_host"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("::", "[::1]"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
    ],
)
def test_a_wildcard_listen_address_gets_a_loopback_url(
    host: str, url_host: str
) -> None:
    # Clients accept http:// for loopback hosts only, and a wildcard address
    # is no address to connect to.
    assert _url_host(host) == url_host
