"""Settings from options and the environment, and their failures (exit 3)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import aiohttp

from aiozuora import Environment
from aiozuora.cli._config import Connection
from aiozuora.simulator import Fault

from .conftest import (
    PYTHON,
    clean_env,
    closed_port,
    invoke,
    one_line_error,
    sim_env,
    subprocess_env,
)

SECRET = "s3cret-that-must-never-show-up-anywhere"


async def test_missing_secret_says_which_variable(sim: Any) -> None:
    env = clean_env(ZUORA_BASE_URL=sim.base_url, ZUORA_CLIENT_ID=sim.client_id)

    result = await invoke("get", "a" * 32, env=env)

    assert result.exit_code == 3
    line = one_line_error(result)
    assert "missing ZUORA_CLIENT_SECRET" in line
    assert "ZUORA_CLIENT_ID" not in line.split(":")[1]
    assert sim.requests == []


async def test_missing_base_url(sim: Any) -> None:
    env = clean_env(ZUORA_CLIENT_ID=sim.client_id, ZUORA_CLIENT_SECRET=SECRET)

    result = await invoke("stop", "a" * 32, env=env)

    assert result.exit_code == 3
    assert "ZUORA_BASE_URL" in one_line_error(result)
    assert SECRET not in result.output


async def test_unknown_environment_name(sim: Any) -> None:
    env = clean_env(
        ZUORA_BASE_URL="moon-production",
        ZUORA_CLIENT_ID=sim.client_id,
        ZUORA_CLIENT_SECRET=SECRET,
    )

    result = await invoke("get", "a" * 32, env=env)

    assert result.exit_code == 3
    assert "moon-production" in one_line_error(result)


def test_environment_names_and_urls_are_told_apart() -> None:
    assert Connection("us-sandbox").target() == Environment.from_name("us-sandbox")
    assert isinstance(Connection("us-sandbox").target(), Environment)
    assert Connection("http://127.0.0.1:9/").target() == "http://127.0.0.1:9"


async def test_wrong_credentials_exit_3_without_the_secret(sim: Any) -> None:
    env = sim_env(sim, ZUORA_CLIENT_SECRET=SECRET)

    result = await invoke("get", "a" * 32, env=env)

    assert result.exit_code == 3
    line = one_line_error(result)
    assert "refused the credentials" in line
    assert "ZUORA_CLIENT_SECRET" in line
    assert SECRET not in result.output


async def test_wrong_credentials_on_stop_exit_3(sim: Any) -> None:
    keys = [sim.seed_action("Processing", total=10_000) for _ in range(2)]

    result = await invoke(
        "stop", *keys, "--json", env=sim_env(sim, ZUORA_CLIENT_SECRET=SECRET)
    )

    assert result.exit_code == 3
    assert "refused the credentials" in one_line_error(result)
    assert [row["ok"] for row in json.loads(result.stdout)] == [False, False]
    assert SECRET not in result.output
    assert all(sim.action(key).stop_requests == 0 for key in keys)


def test_unreachable_host_says_what_to_check() -> None:
    # A real process: no log line of the SDK's (its give-up warning) may join
    # the one line that says what to fix.
    url = f"http://127.0.0.1:{closed_port()}"
    env = subprocess_env(
        ZUORA_BASE_URL=url,
        ZUORA_CLIENT_ID="c" * 36,
        ZUORA_CLIENT_SECRET=SECRET,
        ZUORA_MAX_ATTEMPTS="2",
    )

    process = subprocess.run(
        [PYTHON, "-m", "aiozuora", "get", "a" * 32],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )

    assert process.returncode == 3
    assert process.stdout == ""
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith(f"aiozuora: cannot reach {url}")
    assert "ZUORA_BASE_URL" in line
    assert SECRET not in process.stderr


async def test_unreachable_host_on_stop() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = clean_env(
        ZUORA_BASE_URL=url,
        ZUORA_CLIENT_ID="c" * 36,
        ZUORA_CLIENT_SECRET=SECRET,
        ZUORA_MAX_ATTEMPTS="1",
    )

    result = await invoke("stop", "a" * 32, "b" * 32, env=env)

    assert result.exit_code == 3
    assert f"cannot reach {url}" in one_line_error(result)
    # Every key failed the same way: the one line says it all, no table.
    assert result.stdout == ""


async def test_plain_http_to_a_remote_host_is_refused() -> None:
    env = clean_env(
        ZUORA_BASE_URL="http://rest.zuora.com",
        ZUORA_CLIENT_ID="c" * 36,
        ZUORA_CLIENT_SECRET=SECRET,
    )

    result = await invoke("get", "a" * 32, env=env)

    assert result.exit_code == 3
    assert "bad configuration" in one_line_error(result)
    assert SECRET not in result.output


async def test_options_override_the_environment(sim: Any) -> None:
    key = sim.seed_action("Pending", total=10)
    env = clean_env(
        ZUORA_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        ZUORA_CLIENT_ID="wrong",
        ZUORA_CLIENT_SECRET=SECRET,
    )

    result = await invoke(
        "get",
        key,
        "--json",
        "--base-url",
        sim.base_url,
        "--client-id",
        sim.client_id,
        "--client-secret",
        sim.client_secret,
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "Pending"


async def test_access_token_instead_of_the_oauth_client(sim: Any) -> None:
    key = sim.seed_action("Processing", total=1_000)
    async with aiohttp.ClientSession() as session:
        answer = await session.post(
            f"{sim.base_url}/oauth/token",
            data={
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
                "grant_type": "client_credentials",
            },
        )
        token = (await answer.json())["access_token"]

    result = await invoke(
        "get",
        key,
        "--json",
        env=clean_env(ZUORA_BASE_URL=sim.base_url, ZUORA_ACCESS_TOKEN=token),
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bulk_key"] == key
    assert token not in result.output


async def test_entity_ids_are_sent(sim: Any) -> None:
    key = sim.seed_action("Processing", total=1_000)
    entity = "11e643f4-a3ee-8bad-b061-0025904c756d"

    result = await invoke("get", key, env=sim_env(sim, ZUORA_ENTITY_IDS=entity))

    assert result.exit_code == 0, result.output
    gets = [r for r in sim.requests if r.path == f"/v1/bulk/{key}"]
    assert gets
    assert gets[0].headers.get("Zuora-Entity-Ids") == entity


async def test_verbose_logs_the_sdk_to_stderr(sim: Any) -> None:
    key = sim.seed_action("Processing", total=20_000)
    sim.inject(Fault(503, times=1, method="GET", path=f"/v1/bulk/{key}"))

    verbose = await invoke("-v", "get", key, env=sim_env(sim))
    sim.inject(Fault(503, times=1, method="GET", path=f"/v1/bulk/{key}"))
    # Last, so that the quiet handler replaces the one bound to this stderr.
    quiet = await invoke("get", key, env=sim_env(sim))

    assert quiet.exit_code == verbose.exit_code == 0
    assert quiet.stderr == ""
    assert "INFO aiozuora: retrying GET" in verbose.stderr
    assert sim.client_secret not in verbose.stderr


async def test_entity_id_option_is_sent(sim: Any) -> None:
    key = sim.seed_action("Processing", total=1_000)
    entity = "11e643f4-a3ee-8bad-b061-0025904c756d"

    result = await invoke("get", key, "--entity-id", entity, env=sim_env(sim))

    assert result.exit_code == 0, result.output
    (call,) = [r for r in sim.requests if r.path == f"/v1/bulk/{key}"]
    assert call.headers.get("Zuora-Entity-Ids") == entity
