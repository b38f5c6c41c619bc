"""Running the real ``aiozuora`` command against a real simulator.

The simulator runs on the test's event loop; the command runs in a worker
thread with its own loop (through click's CliRunner), as it would in a shell.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aiozuora.cli import cli

PROJECT = Path(__file__).resolve().parents[2]

#: Removed from the environment of every command run by the tests, so that a
#: developer's own Zuora settings never leak in.
ZUORA_VARIABLES = (
    "ZUORA_BASE_URL",
    "ZUORA_CLIENT_ID",
    "ZUORA_CLIENT_SECRET",
    "ZUORA_ACCESS_TOKEN",
    "ZUORA_ENTITY_IDS",
    "ZUORA_MAX_ATTEMPTS",
)


def clean_env(**values: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = dict.fromkeys(ZUORA_VARIABLES)
    env.update(values)
    return env


def subprocess_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ZUORA_VARIABLES}
    env.update(values)
    return env


async def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """Run ``aiozuora ARGS`` in a worker thread and return click's Result."""
    return await asyncio.to_thread(run_cli, *args, env=env)


def run_cli(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli, list(args), env=clean_env(**(env or {})), catch_exceptions=False
    )


def sim_env(sim: Any, **extra: str) -> dict[str, str | None]:
    values = {
        "ZUORA_BASE_URL": sim.base_url,
        "ZUORA_CLIENT_ID": sim.client_id,
        "ZUORA_CLIENT_SECRET": sim.client_secret,
        **extra,
    }
    return clean_env(**values)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_line_error(result: Result) -> str:
    """The command's error output, checked to be one line and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


PYTHON = sys.executable


@pytest.fixture
def env_for(sim: Any) -> dict[str, str | None]:
    return sim_env(sim)
