"""Running the real ``aiozuora`` command against a real simulator.

The simulator runs on the test's event loop; the command runs in a worker
thread with its own loop (through click's CliRunner), as it would in a shell.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aiozuora.cli import cli

from ..conftest import closed_port as closed_port

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
    "ZUORA_REQUEST_TIMEOUT",
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


async def run_in_terminal(
    *args: str,
    env: Mapping[str, str],
    columns: int = 80,
    until: Callable[[str], bool] | None = None,
    timeout: float = 30.0,
) -> tuple[int, str]:
    """Run ``python -m aiozuora ARGS`` on a pseudo-terminal ``columns`` wide,
    as a person at a terminal would; return the exit code and all it drew.

    With ``until``, SIGINT is sent once the output so far satisfies it.
    """
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "aiozuora",
        *args,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={k: v for k, v in env.items() if k != "COLUMNS"},
    )
    os.close(secondary)
    chunks: list[bytes] = []
    interrupted = False

    def read() -> bytes:
        ready, _, _ = select.select([primary], [], [], 0.05)
        if not ready:
            return b""
        try:
            return os.read(primary, 65536)
        except OSError:  # the terminal closed: the process is gone
            return b"\0"

    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            chunk = await asyncio.to_thread(read)
            if chunk == b"\0":
                break
            chunks.append(chunk)
            text = b"".join(chunks).decode(errors="replace")
            if until is not None and not interrupted and until(text):
                process.send_signal(signal.SIGINT)
                interrupted = True
            if process.returncode is not None and not chunk:
                break
        code = await asyncio.wait_for(process.wait(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(primary)
    return code, b"".join(chunks).decode(errors="replace")


def screen_lines(text: str) -> list[str]:
    """What a terminal shows of ``text``, line by line, escape codes removed."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", text)
    return [line.split("\r")[-1] for line in plain.replace("\r\n", "\n").split("\n")]
