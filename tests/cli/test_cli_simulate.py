"""``aiozuora simulate`` in a real process: it serves, and Ctrl-C stops it."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess

import pytest

from aiozuora.cli._simulate import announce
from aiozuora.simulator import ZuoraSimulator

from .conftest import PYTHON, run_cli, subprocess_env


def start(*args: str) -> subprocess.Popen[str]:
    """``aiozuora simulate`` on a free port, in its own process."""
    return subprocess.Popen(
        [PYTHON, "-m", "aiozuora", "simulate", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def test_simulate_serves_until_interrupted() -> None:
    process = start()
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Zuora simulator listening on http://127.0.0.1:")
        lines = [process.stdout.readline() for _ in range(12)]
        exports = dict(
            line.split("export ", 1)[1].strip().split("=", 1)
            for line in lines
            if "export ZUORA_" in line
        )
        keys = [line.split()[0] for line in lines if re.match(r"  [0-9a-f]{32} ", line)]
        assert set(exports) == {
            "ZUORA_BASE_URL",
            "ZUORA_CLIENT_ID",
            "ZUORA_CLIENT_SECRET",
        }
        assert len(keys) == 5

        result = run_cli("get", keys[3], "--json", env=exports)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["status"] == "Completed"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Simulator stopped." in out
    assert "Traceback" not in err


async def test_simulate_json_announces_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with ZuoraSimulator() as sim:
        key = sim.seed_action("Pending", total=10)

        announce(sim, [key], as_json=True)

    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "base_url": sim.base_url,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "bulk_keys": [key],
    }


def test_simulate_on_a_busy_port_exits_3() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = run_cli("simulate", "--port", str(port))

    assert result.exit_code == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_simulate_refuses_a_bad_option_in_one_line() -> None:
    result = run_cli("simulate", "--client-id", "")

    assert result.exit_code == 2
    assert "client_id" in result.stderr
    assert "Traceback" not in result.output
