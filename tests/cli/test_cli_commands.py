"""get, stop, wait, submit and results, run for real against the simulator."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from aiozuora import MassAction

from .conftest import invoke, one_line_error

FAST_POLL = ("--poll-interval", "0.05")
ACTION_FIELDS = set(MassAction(bulk_key="x", status="Pending").to_json())


async def test_get_prints_the_action(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Processing", total=4_000, processed=1_000)

    result = await invoke("get", key, env=env_for)

    assert result.exit_code == 0, result.output
    assert f"Mass action {key}" in result.stdout
    assert "Processing" in result.stdout
    assert "of 4,000 processed" in result.stdout


async def test_get_json_is_one_mass_action(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Completed", total=250, action_type="ImportFXRate")

    result = await invoke("get", key, "--json", env=env_for)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == ACTION_FIELDS
    assert body["bulk_key"] == key
    assert body["status"] == "Completed"
    assert body["action_type"] == "ImportFXRate"
    assert body["total_count"] == 250
    assert body["success_count"] + body["error_count"] == 250
    assert body["output_url"]


async def test_bad_key_is_a_usage_error_before_any_request(
    sim: Any, env_for: dict[str, str]
) -> None:
    for bad in ("abc/def", "../etc", "has space", "%2F"):
        result = await invoke("get", bad, env=env_for)

        assert result.exit_code == 2, result.output
        assert "bad bulk key" in one_line_error(result)
    assert sim.requests == []


async def test_unknown_key_is_a_usage_error(sim: Any, env_for: dict[str, str]) -> None:
    result = await invoke("get", "0" * 32, env=env_for)

    assert result.exit_code == 2, result.output
    assert "check the bulk key" in one_line_error(result)


async def test_stop_and_wait_many_prints_the_contract_shape(
    sim: Any, env_for: dict[str, str]
) -> None:
    keys = [sim.seed_action("Processing", total=20_000) for _ in range(3)]
    keys.append(sim.seed_action("Pending", total=1_000, pending_seconds=30))

    result = await invoke(
        "stop", *keys, "--wait", "--concurrency", "2", "--json", *FAST_POLL, env=env_for
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [row["bulk_key"] for row in body] == keys
    for row in body:
        assert set(row) == {"bulk_key", "ok", "status", "error"}
        assert row == {
            "bulk_key": row["bulk_key"],
            "ok": True,
            "status": "Stopped",
            "error": None,
        }
    assert all(sim.action(key).stop_requests == 1 for key in keys)


async def test_stop_without_wait_returns_at_once(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=20_000)

    result = await invoke("stop", key, env=env_for)

    assert result.exit_code == 0, result.output
    assert key in result.stdout
    assert "stop accepted" in result.stdout
    assert str(sim.action(key).status) in ("Stopping", "Stopped")


@pytest.mark.parametrize("wait", [False, True], ids=["no-wait", "wait"])
async def test_an_action_finished_before_the_stop_is_not_ok(
    sim: Any, env_for: dict[str, str], wait: bool
) -> None:
    # ok means what the user asked for: the action is Stopping or Stopped.
    # The SDK's StopOutcome.ok is true for a finished action under --wait;
    # the command line says the same thing with and without it.
    done = sim.seed_action("Completed", total=10)
    failed = sim.seed_action("Failed", total=10)
    running = sim.seed_action("Processing", total=20_000)
    options = ["--wait", *FAST_POLL] if wait else []

    result = await invoke(
        "stop", done, failed, running, "--json", *options, env=env_for
    )

    assert result.exit_code == 1, result.output
    first, second, third = json.loads(result.stdout)
    assert first == {
        "bulk_key": done,
        "ok": False,
        "status": "Completed",
        "error": "it had already finished as Completed: there was nothing to stop",
    }
    assert second["ok"] is False
    assert second["status"] == "Failed"
    assert "already finished as Failed" in second["error"]
    assert third["ok"] is True
    assert third["error"] is None
    # Without --wait an accepted stop is one request: no state is read.
    assert third["status"] == ("Stopped" if wait else None)


async def test_stop_table_says_what_happened(sim: Any, env_for: dict[str, str]) -> None:
    failed = sim.seed_action("Failed", total=10)
    unknown = "0" * 32

    result = await invoke("stop", failed, unknown, env=env_for)

    assert result.exit_code == 2, result.output
    out = " ".join(result.stdout.split())
    assert f"{failed} Failed not stopped" in out
    assert f"{failed}: it had already finished as Failed" in out
    assert f"{unknown} - failed" in out
    assert "No mass action has the bulk key" in out
    assert "finished before the stop landed" not in out


async def test_stop_rejects_bad_options(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Processing", total=100)

    zero = await invoke("stop", key, "--concurrency", "0", env=env_for)
    none = await invoke("stop", env=env_for)
    bad_key = await invoke("stop", key, "not-a-key!", env=env_for)

    assert zero.exit_code == 2
    assert none.exit_code == 2
    assert bad_key.exit_code == 2
    assert "not-a-key!" in one_line_error(bad_key)
    assert sim.action(key).stop_requests == 0


async def test_wait_prints_the_final_state(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Processing", total=150, processed=50)

    result = await invoke("wait", key, "--json", *FAST_POLL, env=env_for)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == ACTION_FIELDS
    assert body["status"] == "Completed"
    assert body["processed_count"] == 150


async def test_wait_on_a_failed_action_exits_1(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Failed", total=10)

    result = await invoke("wait", key, env=env_for)

    assert result.exit_code == 1, result.output
    assert "Failed" in result.stdout


async def test_wait_timeout_exits_1_with_a_hint(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=20_000, records_per_second=1)

    result = await invoke("wait", key, "--timeout", "0.3", *FAST_POLL, env=env_for)

    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert key in line
    assert "--timeout" in line


async def test_submit_uploads_a_file(
    sim: Any, env_for: dict[str, str], tmp_path: Path
) -> None:
    upload = tmp_path / "codes.csv"
    upload.write_text(
        "Id,Accounting Code\n" + "".join(f"8a8{n:029d},AC-{n}\n" for n in range(40))
    )

    result = await invoke(
        "submit",
        str(upload),
        "--action-type",
        "UpdateAccountingCode",
        "--json",
        env=env_for,
    )

    assert result.exit_code == 0, result.output
    key = json.loads(result.stdout)["bulk_key"]
    assert sim.action(key).total == 40


async def test_submit_and_wait_prints_the_final_state(
    sim: Any, env_for: dict[str, str], tmp_path: Path
) -> None:
    upload = tmp_path / "rates.csv"
    upload.write_text("From,To,Rate\nUSD,EUR,0.9\nUSD,GBP,0.8\n")

    result = await invoke(
        "submit",
        str(upload),
        "--action-type",
        "ImportFXRate",
        "--wait",
        "--json",
        *FAST_POLL,
        env=env_for,
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "Completed"
    assert body["total_count"] == 2


async def test_submit_rejects_bad_input(
    sim: Any, env_for: dict[str, str], tmp_path: Path
) -> None:
    upload = tmp_path / "x.csv"
    upload.write_text("a\n1\n")

    wrong_type = await invoke(
        "submit", str(upload), "--action-type", "Nope", env=env_for
    )
    no_file = await invoke(
        "submit", str(tmp_path / "missing.csv"), "--action-type", "MPU", env=env_for
    )

    assert wrong_type.exit_code == 2
    assert no_file.exit_code == 2
    assert not [r for r in sim.requests if r.path == "/v1/bulk"]


async def test_results_json_summary(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Stopped", total=500, processed=300)

    result = await invoke("results", key, "--json", env=env_for)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"bulk_key", "succeeded", "failed", "unprocessed"}
    assert body["bulk_key"] == key
    assert body["succeeded"] + body["failed"] == 300
    assert body["unprocessed"] == 200
    assert body["failed"] == sim.action(key).failed


async def test_results_table_and_csv_output(
    sim: Any, env_for: dict[str, str], tmp_path: Path
) -> None:
    key = sim.seed_action("Completed", total=120)
    target = tmp_path / "response.csv"

    result = await invoke("results", key, "--output", str(target), env=env_for)

    assert result.exit_code == 0, result.output
    assert "Succeeded" in result.stdout
    assert str(target) in result.stdout
    with target.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 120
    assert {row["Success"] for row in rows} <= {"Y", "N"}


async def test_results_csv_to_stdout(sim: Any, env_for: dict[str, str]) -> None:
    key = sim.seed_action("Completed", total=30)

    result = await invoke("results", key, "--output", "-", env=env_for)

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 30


async def test_results_before_a_final_state_exits_1(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=20_000)

    result = await invoke("results", key, env=env_for)

    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert f"mass action {key} has no response file" in line
    assert "still Processing" in line
