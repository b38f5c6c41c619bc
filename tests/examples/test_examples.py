"""Every script in examples/ runs to the end against a simulator it starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRACK_ID = r"[0-9a-f]{32}-[0-9a-f]{16}"


def run_example(name: str, **extra_env: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZUORA_")}
    env.update(extra_env)
    process = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
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
