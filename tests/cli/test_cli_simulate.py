"""``aiozuora simulate`` in a real process: it serves, and Ctrl-C stops it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

from .conftest import PYTHON, clean_env, run_cli, subprocess_env


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "aiozuora", "simulate", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def test_simulate_serves_until_interrupted() -> None:
    process = start("--json")
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        assert announced["base_url"].startswith("http://127.0.0.1:")
        assert len(announced["client_id"]) == 36
        assert len(announced["bulk_keys"]) == 5

        env = clean_env(
            ZUORA_BASE_URL=announced["base_url"],
            ZUORA_CLIENT_ID=announced["client_id"],
            ZUORA_CLIENT_SECRET=announced["client_secret"],
        )
        statuses = [
            json.loads(run_cli("get", key, "--json", env=env).stdout)["status"]
            for key in announced["bulk_keys"]
        ]
        assert "Completed" in statuses
        assert "Processing" in statuses
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_simulate_prints_exports_and_stops_cleanly() -> None:
    process = start("--no-samples")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "Zuora simulator listening on http://127.0.0.1:" in first
        lines = [process.stdout.readline() for _ in range(4)]
        assert any("export ZUORA_CLIENT_SECRET=" in line for line in lines)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Simulator stopped." in out
    assert "Traceback" not in err


def test_simulate_on_a_busy_port_exits_3() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = run_cli("simulate", "--port", str(port))

    assert result.exit_code == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output
