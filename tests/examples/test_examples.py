"""Every script in examples/ runs to the end against a simulator it starts."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiozuora import Environment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRACK_ID = r"[0-9a-f]{32}-[0-9a-f]{16}"


def example_env(**extra_env: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZUORA_")}
    env.update(extra_env)
    return env


def run_example(name: str, **extra_env: str) -> str:
    process = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        env=example_env(**extra_env),
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Traceback" not in process.stderr
    return process.stdout


def test_every_example_is_tested() -> None:
    tested = {"stop_one.py", "stop_many.py", "tracing.py", "test_with_simulator.py"}

    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_stop_one() -> None:
    out = run_example("stop_one.py")

    assert re.search(r"mass action [0-9a-f]{32} is Stopped: \d+ records succeeded", out)


def test_stop_many() -> None:
    out = run_example("stop_many.py")

    assert "21/21 handled" in out
    assert "21 mass actions: 5 Completed, 15 Stopped, 1 not stopped" in out
    assert re.search(r"^  0{32}: not stopped: .*No mass action", out, re.MULTILINE)


def test_tracing() -> None:
    out = run_example("tracing.py")

    assert "zuora.mass_actions.stop_and_wait" in out
    assert re.search(r" is Stopped$", out, re.MULTILINE)
    sent = re.findall(rf"Zuora-Track-Id: ({TRACK_ID})", out)
    assert sent
    for track_id in sent:
        trace_id, span_id = track_id.split("-")
        # The value Zuora saw is the trace and span id of an operation span.
        assert re.search(rf"^{trace_id} span {span_id} parent ", out, re.MULTILINE)


@pytest.mark.timeout(60)
def test_with_simulator() -> None:
    # The hypothesis plugin the project's own tests use only slows this down.
    out = run_example("test_with_simulator.py", PYTEST_ADDOPTS="-p no:hypothesispytest")

    assert "3 passed" in out
    assert "warning" not in out.lower()


@pytest.mark.parametrize(
    ("name", "usage"),
    [("stop_one.py", "BULK_KEY"), ("stop_many.py", "BULK_KEY...")],
)
def test_against_zuora_without_a_key_prints_the_usage(name: str, usage: str) -> None:
    process = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        env=example_env(ZUORA_BASE_URL="us-sandbox"),
    )

    assert process.returncode == 2
    assert process.stderr == f"usage: python examples/{name} {usage}\n"


@pytest.mark.parametrize("name", ["stop_one.py", "stop_many.py"])
def test_zuora_base_url_takes_an_environment_name(name: str) -> None:
    spec = importlib.util.spec_from_file_location(name[:-3], EXAMPLES / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.base_url("us-sandbox") is Environment.from_name("us-sandbox")
    assert module.base_url("eu-production") is Environment.EU_PRODUCTION
    assert module.base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


async def test_stop_one_against_a_tenant_from_the_environment(sim: Any) -> None:
    key = sim.seed_action("Processing", total=20_000)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "stop_one.py"),
        key,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=example_env(
            ZUORA_BASE_URL=sim.base_url,
            ZUORA_CLIENT_ID=sim.client_id,
            ZUORA_CLIENT_SECRET=sim.client_secret,
        ),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    assert f"mass action {key} is Stopped" in out.decode()
    assert sim.action(key).stop_requests == 1
