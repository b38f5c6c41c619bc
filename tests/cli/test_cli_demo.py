"""``aiozuora demo`` end to end, and the span tree its --trace prints."""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from rich.console import Console

from aiozuora import PollPolicy, RetryPolicy, ZuoraClient
from aiozuora.cli._spans import span_tree
from aiozuora.simulator import Fault

from .conftest import (
    PROJECT,
    PYTHON,
    run_cli,
    run_in_terminal,
    screen_lines,
    subprocess_env,
)

TRACK_ID = re.compile(r"[0-9a-f]{32}-[0-9a-f]{16}")


SUMMARY_ROW = re.compile(
    r"^([0-9a-f]{32}) +(Stopped|Completed) +([0-9,]+) +([0-9,]+) +([0-9,]+)$"
)


def test_demo_runs_to_the_summary_table() -> None:
    # The console script, as the README's quick start runs it, into a pipe
    # that says it is 80 columns wide.
    started = time.monotonic()
    process = subprocess.run(
        [str(Path(PYTHON).parent / "aiozuora"), "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
        env=subprocess_env(COLUMNS="80"),
    )
    elapsed = time.monotonic() - started

    assert process.returncode == 0, process.stderr
    out = process.stdout
    assert "Mass actions after the stop" in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert [line for line in lines if line != line.rstrip()] == []
    rows = [m.groups() for line in lines if (m := SUMMARY_ROW.match(line))]
    assert len(rows) == 7
    assert [status for _, status, *_ in rows].count("Stopped") == 6
    for _, _, *counts in rows:
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", count) for count in counts)
    # The records of each action add up: no number is clipped.
    assert sum(int(c.replace(",", "")) for c in rows[0][2:]) == 1_200
    assert sum(int(c.replace(",", "")) for c in rows[-1][2:]) == 2_500
    assert "Retries (client.stats.retries)" in out
    for reason in ("HTTP 500", "HTTP 429", "connection error"):
        assert reason in out
    assert len(TRACK_ID.findall(out)) >= 7
    assert "Traceback" not in process.stderr
    assert elapsed < 20


async def test_demo_on_an_80_column_terminal() -> None:
    code, screen = await run_in_terminal("demo", env=subprocess_env(), columns=80)

    assert code == 0, screen
    lines = screen_lines(screen)
    assert max(len(line) for line in lines) <= 80
    # The live view: every bar's counts whole, and the status beside them.
    text = "\n".join(lines)
    assert re.search(r"\d,\d{3}/12,000 +Stopped +stopped", text)
    assert re.search(r"2,500/2,500 +Completed +not stoppable", text)
    rows = [m.groups() for line in lines if (m := SUMMARY_ROW.match(line))]
    assert len(rows) == 7


def test_demo_json_with_trace() -> None:
    result = run_cli("demo", "--json", "--trace")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    actions = body["actions"]
    assert len(actions) == 7
    by_seed: dict[str, list[dict[str, Any]]] = {}
    for action in actions:
        by_seed.setdefault(action["seeded_status"], []).append(action)
        assert TRACK_ID.fullmatch(action["track_id"])
    assert all(a["status"] == "Stopped" for a in by_seed["Processing"])
    assert all(a["status"] == "Stopped" for a in by_seed["Pending"])
    (completed,) = by_seed["Completed"]
    assert completed["status"] == "Completed"
    assert completed["unprocessed"] == 0
    for action in by_seed["Processing"]:
        assert action["unprocessed"] > 0
        assert action["succeeded"] > action["failed"] > 0
    assert body["retries"]["HTTP 500"] >= 2
    assert body["retries"]["HTTP 429"] >= 1
    assert body["retries"]["connection error"] >= 1

    spans = body["trace"]
    (root,) = [s for s in spans if s["parent_span_id"] is None]
    assert root["name"] == "zuora.mass_actions.stop_and_wait"
    by_id = {span["span_id"]: span for span in spans}
    clients = [s for s in spans if s["kind"] == "CLIENT"]
    assert any(s["resend_count"] for s in clients)
    for span in clients:
        operation = by_id[span["parent_span_id"]]
        assert span["track_id"] == f"{span['trace_id']}-{operation['span_id']}"
        assert span["trace_id"] == root["trace_id"]


async def test_span_tree_shows_the_track_id_link(
    sim: Any,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    fast_retry: RetryPolicy,
) -> None:
    key = sim.seed_action("Processing", total=20_000)
    sim.inject(Fault(500, times=1, method="PUT", path=f"/v1/bulk/{key}/stop"))
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        retry=fast_retry,
        tracer_provider=tracer_provider,
    ) as client:
        await client.mass_actions.stop_and_wait(
            key, poll=PollPolicy(initial_interval=0.05)
        )
    spans = span_exporter.get_finished_spans()
    operation = next(s for s in spans if s.name == "zuora.mass_actions.stop_and_wait")
    context = operation.get_span_context()

    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(span_tree(spans))
    text = out.getvalue()

    assert text.splitlines()[0] == f"trace {context.trace_id:032x}"
    assert "zuora.mass_actions.stop_and_wait" in text
    assert f"PUT /v1/bulk/{key}/stop → 500" in text
    assert "retry 1" in text
    sent = {r.headers.get("Zuora-Track-Id") for r in sim.requests if key in r.path}
    for track_id in sent:
        assert f"Zuora-Track-Id {track_id}" in text
