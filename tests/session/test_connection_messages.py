"""What a failed connection's TransportError says, and what it leaves out."""

from __future__ import annotations

import pytest

from aiozuora import Environment, RetryPolicy, TransportError, ZuoraClient
from aiozuora.simulator import ZuoraSimulator

from ..conftest import closed_port

ONCE = RetryPolicy(max_attempts=1)


async def test_a_refused_connection_names_the_host_and_the_reason() -> None:
    port = closed_port()
    async with ZuoraClient(
        f"http://127.0.0.1:{port}", access_token="t", retry=ONCE
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.mass_actions.get("a" * 32)

    message = caught.value.message
    assert message == f"connection failed: cannot connect to 127.0.0.1:{port}: " + (
        "Connection refused"
    )
    assert "ssl:" not in str(caught.value)


async def test_a_tls_failure_carries_no_ssl_context_repr(sim: ZuoraSimulator) -> None:
    # https:// to the plain-HTTP simulator: the handshake fails.
    url = sim.base_url.replace("http://", "https://")
    async with ZuoraClient(url, access_token="t", retry=ONCE) as client:
        with pytest.raises(TransportError) as caught:
            await client.mass_actions.get("a" * 32)

    text = str(caught.value)
    assert "cannot connect to 127.0.0.1:" in text
    assert "SSL" in text
    assert "SSLContext" not in text
    assert " at 0x" not in text


def test_an_unknown_environment_lists_the_short_names_too() -> None:
    with pytest.raises(ValueError, match="unknown Zuora environment") as caught:
        Environment.from_name("moon")

    known = str(caught.value).split("known: ")[1].split(", ")
    assert known[:2] == ["us-sandbox", "us-production"]
    assert {"us-central-sandbox", "apac-production", "sbx", "prod-eu"} <= set(known)
    assert len(known) == len(set(known))
    for name in known:
        assert Environment.from_name(name) in Environment
