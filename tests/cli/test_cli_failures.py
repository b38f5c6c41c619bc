"""Every mistake and failure ends in one line and the right exit code.

Bad input (files, options, keys), hosts that cannot be reached or never
answer, refused credentials, timeouts, Ctrl-C and the unexpected: each is
run through the real command line against the simulator.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from aiozuora import __version__
from aiozuora.cli import cli
from aiozuora.cli._app import run
from aiozuora.cli._config import ENVIRONMENT_VARIABLES
from aiozuora.simulator import Fault

from .conftest import (
    PYTHON,
    clean_env,
    closed_port,
    invoke,
    one_line_error,
    run_in_terminal,
    sim_env,
    subprocess_env,
)

FAST_POLL = ("--poll-interval", "0.05")
SECRET = "s3cret-that-must-never-show-up-anywhere"


def uploads(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.path == "/v1/bulk"]


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


CSV = b"Id,Accounting Code\n8a8000000000000000000000000000001,AC-1\n"


def damaged_deflate() -> bytes:
    """A zip whose directory is whole but whose compressed CSV is garbled."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "a.csv", "Id,Code\n" + "".join(f"{n},AC-{n}\n" for n in range(2_000))
        )
    data = bytearray(buffer.getvalue())
    for at in range(40, 200):
        data[at] ^= 0x5A
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"Id,Accounting Code\n", "no records"),
        (zipped(**{"a.csv": CSV, "b.csv": CSV}), "exactly one .csv"),
        (zipped(**{"a.csv": CSV})[:40], "not a readable zip"),
        (b"PK\x03\x04" + b"\xff" * 200, "not a readable zip"),
        (damaged_deflate(), "not a readable zip"),
    ],
    ids=[
        "empty",
        "header-only",
        "two-csvs",
        "truncated-zip",
        "garbage-zip",
        "damaged-data",
    ],
)
async def test_a_file_zuora_would_refuse_is_a_usage_error(
    sim: Any, env_for: dict[str, str], tmp_path: Path, content: bytes, expected: str
) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(content)

    result = await invoke(
        "submit", str(upload), "--action-type", "UpdateAccountingCode", env=env_for
    )

    assert result.exit_code == 2, result.output
    assert expected in one_line_error(result)
    assert uploads(sim) == []


@pytest.mark.parametrize("key", ["", "k" * 300, "clé-42"], ids=["empty", "long", "é"])
async def test_a_bad_idempotency_key_is_a_usage_error(
    sim: Any, tmp_path: Path, key: str
) -> None:
    upload = tmp_path / "codes.csv"
    upload.write_bytes(CSV)

    # No settings at all: the key is refused before they are looked at.
    result = await invoke(
        "submit", str(upload), "--action-type", "MPU", "--idempotency-key", key,
        env=clean_env(),
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "Invalid value for '--idempotency-key'" in result.stderr
    assert "printable US-ASCII characters, at most 255 long" in result.stderr
    assert "Traceback" not in result.output
    assert sim.requests == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "soon"])
@pytest.mark.parametrize(
    "command",
    [
        ("stop", "--wait", "--timeout"),
        ("wait", "--timeout"),
        ("wait", "--poll-interval"),
        ("get", "--request-timeout"),
    ],
    ids=["stop-timeout", "wait-timeout", "poll-interval", "request-timeout"],
)
async def test_seconds_must_be_finite_and_positive(
    sim: Any, env_for: dict[str, str], command: tuple[str, ...], value: str
) -> None:
    name, *options = command

    result = await invoke(name, "a" * 32, *options, value, env=env_for)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"Invalid value for '{options[-1]}'" in result.stderr
    assert sim.requests == []


async def test_results_into_a_missing_directory_is_a_usage_error(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Completed", total=10)

    result = await invoke("results", key, "-o", "/nonexistent/dir/x.csv", env=env_for)

    assert result.exit_code == 2, result.output
    assert one_line_error(result) == (
        "aiozuora: cannot write /nonexistent/dir/x.csv: no directory /nonexistent/dir"
    )
    assert sim.requests == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_results_into_a_file_that_fails_to_write_is_one_line(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Completed", total=10)

    result = await invoke("results", key, "-o", "/dev/full", env=env_for)

    assert result.exit_code == 2, result.output
    assert "cannot write /dev/full: No space left" in one_line_error(result)


def test_an_unexpected_error_is_one_line_and_v_shows_the_traceback() -> None:
    async def broken() -> int:
        raise RuntimeError("the unexpected\nsecond line")

    @click.group()
    @click.option("-v", "verbose", count=True)
    def group(verbose: int) -> None:
        pass

    @group.command()
    def boom() -> None:
        run(broken)

    quiet = CliRunner().invoke(group, ["boom"])
    loud = CliRunner().invoke(group, ["-v", "boom"])

    assert quiet.exit_code == loud.exit_code == 1
    assert quiet.stderr == (
        "aiozuora: unexpected RuntimeError: the unexpected (run with -v for details)\n"
    )
    assert "Traceback" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1] == (
        "aiozuora: unexpected RuntimeError: the unexpected"
    )


async def test_ctrl_c_exits_130_without_a_traceback(sim: Any) -> None:
    key = sim.seed_action("Processing", total=100_000, records_per_second=1)
    env = subprocess_env(**{k: v for k, v in sim_env(sim).items() if v is not None})

    code, screen = await run_in_terminal(
        "wait", key, *FAST_POLL, env=env, until=lambda text: "Waiting for" in text
    )

    assert code == 130, screen
    assert "aiozuora: interrupted" in screen
    assert "Traceback" not in screen


# -- a host that cannot be reached, or that never answers ---------------------


@pytest.mark.parametrize("command", [("wait",), ("stop", "--wait")])
async def test_waiting_on_a_host_that_cannot_be_reached_fails_at_once(
    command: tuple[str, ...],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = clean_env(
        ZUORA_BASE_URL=url, ZUORA_CLIENT_ID="c" * 36, ZUORA_CLIENT_SECRET=SECRET
    )
    started = time.monotonic()

    result = await invoke(
        *command, "a" * 32, "--timeout", "60", "--max-attempts", "1", env=env
    )

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert line.startswith(f"aiozuora: cannot reach {url} (connection failed:")
    assert "Connection refused" in line
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", [("wait",), ("stop", "--wait")])
async def test_waiting_with_refused_credentials_fails_at_once(
    sim: Any, command: tuple[str, ...]
) -> None:
    keys = [sim.seed_action("Processing", total=100_000) for _ in range(3)]
    env = sim_env(sim, ZUORA_CLIENT_SECRET=SECRET)

    result = await invoke(*command, *keys[: 1 if command == ("wait",) else 3],
                          "--timeout", "60", env=env)  # fmt: skip

    assert result.exit_code == 3, result.output
    assert "refused the credentials" in one_line_error(result)
    assert [r for r in sim.requests if r.path.startswith("/v1/")] == []
    assert len([r for r in sim.requests if r.path == "/oauth/token"]) == 1


async def test_waiting_on_an_unknown_key_fails_at_once(
    sim: Any, env_for: dict[str, str]
) -> None:
    result = await invoke("wait", "0" * 32, "--timeout", "60", env=env_for)

    assert result.exit_code == 2, result.output
    assert "check the bulk key" in one_line_error(result)


async def _invoke_then(
    sim: Any, key: str, looks: int, fault: Fault, *args: str, env: dict[str, str]
) -> Any:
    """Run ``args``; once the command has looked ``key`` up ``looks`` times,
    inject ``fault``."""
    running = asyncio.ensure_future(invoke(*args, env=env))
    path = f"/v1/bulk/{key}"
    for _ in range(2_000):
        if len([r for r in sim.requests if r.path == path]) >= looks:
            break
        await asyncio.sleep(0.005)
    sim.inject(fault)
    return await running


async def test_a_wait_whose_polls_fail_says_why(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=100_000, records_per_second=1)
    fault = Fault(503, times=1000, method="GET", path=f"/v1/bulk/{key}")

    result = await _invoke_then(
        sim, key, 2, fault, "wait", key, "--timeout", "0.5", "--max-attempts", "1",
        "--json", *FAST_POLL, env=env_for,
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert f"mass action {key} did not reach a final state within 0.5 s" in line
    assert "; the latest poll failed: Zuora answered with an error: HTTP 503" in line
    body = json.loads(result.stdout)
    assert set(body) == {"bulk_key", "status", "error", "last"}
    assert body["bulk_key"] == key
    assert body["status"] == "Processing"
    assert body["last"]["status"] == "Processing"
    assert body["error"] == line.removeprefix("aiozuora: ")


async def test_a_wait_that_never_reached_zuora_again_is_exit_3(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=100_000, records_per_second=1)
    fault = Fault(None, drop="before", times=1000, method="GET", path=f"/v1/bulk/{key}")

    result = await _invoke_then(
        sim, key, 1, fault, "wait", key, "--timeout", "0.5", "--max-attempts", "1",
        *FAST_POLL, env=env_for,
    )  # fmt: skip

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert line.startswith(f"aiozuora: cannot reach {sim.base_url} (")
    assert "check ZUORA_BASE_URL and the network" in line


async def test_wait_timeout_json_without_a_poll_failure(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=20_000, records_per_second=1)

    result = await invoke(
        "wait", key, "--timeout", "0.3", "--json", *FAST_POLL, env=env_for
    )

    assert result.exit_code == 1, result.output
    assert "wait longer with --timeout" in one_line_error(result)
    body = json.loads(result.stdout)
    assert body["bulk_key"] == key
    assert body["status"] == "Processing"
    assert "within 0.3 s" in body["error"]


@pytest.mark.parametrize("how", ["option", "environment"])
async def test_a_server_that_never_answers_is_bounded_by_request_timeout(
    sim: Any, how: str
) -> None:
    key = sim.seed_action("Processing", total=1_000)
    sim.inject(Fault(None, delay=5.0, times=2, method="GET", path=f"/v1/bulk/{key}"))
    env = sim_env(sim, ZUORA_MAX_ATTEMPTS="2")
    options: tuple[str, ...] = ()
    if how == "option":
        options = ("--request-timeout", "0.2")
    else:
        env["ZUORA_REQUEST_TIMEOUT"] = "0.2"
    started = time.monotonic()

    result = await invoke("get", key, *options, env=env)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert "(no answer within 0.2 s per attempt, 2 attempts)" in line
    assert "--request-timeout" in line
    assert time.monotonic() - started < 3


# -- credentials and settings -------------------------------------------------


async def test_a_refused_access_token_says_so(sim: Any) -> None:
    key = sim.seed_action("Processing", total=10)
    env = clean_env(ZUORA_BASE_URL=sim.base_url, ZUORA_ACCESS_TOKEN="expired-token")

    result = await invoke("get", key, env=env)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert line.startswith("aiozuora: Zuora refused the access token (HTTP 401")
    assert "give a new one in ZUORA_ACCESS_TOKEN" in line
    assert "CLIENT_ID" not in line
    assert "ZuoraClient" not in result.output
    assert "expired-token" not in result.output


@pytest.mark.parametrize("token_by", ["environment", "option"])
async def test_a_token_and_an_oauth_client_together_are_refused(
    sim: Any, token_by: str
) -> None:
    env = sim_env(sim)
    options: tuple[str, ...] = ()
    if token_by == "option":
        options = ("--access-token", "t0ken")
    else:
        env["ZUORA_ACCESS_TOKEN"] = "t0ken"

    result = await invoke("get", "a" * 32, *options, env=env)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    source = "--access-token" if token_by == "option" else "ZUORA_ACCESS_TOKEN"
    assert f"both an access token ({source}) and OAuth client credentials" in line
    assert "ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET" in line
    assert "unset one of them" in line
    assert sim.requests == []


@pytest.mark.parametrize("how", ["option", "environment"])
async def test_an_unknown_environment_lists_every_accepted_name(
    sim: Any, how: str
) -> None:
    env = sim_env(sim)
    options: tuple[str, ...] = ()
    if how == "option":
        options = ("--base-url", "moon-production")
    else:
        env["ZUORA_BASE_URL"] = "moon-production"

    result = await invoke("get", "a" * 32, *options, env=env)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    setting = "--base-url" if how == "option" else "ZUORA_BASE_URL"
    assert line.startswith(f"aiozuora: {setting} 'moon-production' is neither")
    known = line.split("known: ")[1].split(", ")
    for name in ("us-sandbox", "eu-sandbox", "apac-production", "sbx", "prod-eu"):
        assert name in known


async def test_a_tls_failure_reads_cleanly(sim: Any) -> None:
    # https:// to a plain-HTTP server: the handshake fails.
    env = sim_env(sim, ZUORA_BASE_URL=sim.base_url.replace("http://", "https://"))

    result = await invoke("get", "a" * 32, "--max-attempts", "1", env=env)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert "cannot connect to 127.0.0.1:" in line
    assert "SSLContext" not in line
    assert "object at 0x" not in line
    assert "ssl:" not in line


# -- small things -------------------------------------------------------------


async def test_results_json_without_a_response_file(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Failed", total=500)

    result = await invoke("results", key, "--json", env=env_for)

    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert json.loads(result.stdout) == {
        "bulk_key": key,
        "status": "Failed",
        "error": line.removeprefix("aiozuora: "),
    }
    assert "Failed before processing any record" in line


async def test_submit_and_wait_that_fails_says_so(
    sim: Any, env_for: dict[str, str], tmp_path: Path
) -> None:
    upload = tmp_path / "twice.csv"
    # A header naming a column twice: Zuora takes the file, then fails it.
    upload.write_text("Id,Id\n1,2\n")

    result = await invoke(
        "submit", str(upload), "--action-type", "updateaccountingcode", "--wait",
        *FAST_POLL, env=env_for,
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    line = one_line_error(result)
    assert line.startswith("aiozuora: mass action ")
    assert " Failed (0 of " in line
    assert len(uploads(sim)) == 1
    key = line.split()[3]
    assert sim.action(key).action_type == "UpdateAccountingCode"


async def test_stop_many_logs_one_key_in_the_singular(
    sim: Any, env_for: dict[str, str]
) -> None:
    key = sim.seed_action("Processing", total=20_000)

    result = await invoke("-v", "stop", key, env=env_for)

    assert result.exit_code == 0, result.output
    assert "stop_many: 1 key, 1 ok, 0 not stopped" in result.stderr


def test_top_level_help_names_every_variable_read() -> None:
    read = {
        variable
        for command in cli.commands.values()
        for param in command.params
        for variable in (
            [param.envvar] if isinstance(param.envvar, str) else param.envvar or []
        )
    }

    result = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "200"})

    assert read == set(ENVIRONMENT_VARIABLES)
    text = " ".join(result.stdout.split())
    for variable in read:
        assert variable in text
    assert __version__


async def test_wait_shows_the_status_and_records_as_it_polls(sim: Any) -> None:
    key = sim.seed_action("Processing", total=5_000, processed=1_000)
    env = subprocess_env(**{k: v for k, v in sim_env(sim).items() if v is not None})

    code, screen = await run_in_terminal(
        "wait", key, "--timeout", "0.6", *FAST_POLL, env=env
    )

    assert code == 1, screen
    assert "Processing" in screen
    assert "of 5,000 records" in screen


async def test_a_reader_that_goes_away_ends_the_command_quietly(sim: Any) -> None:
    key = sim.seed_action("Completed", total=20_000)
    env = subprocess_env(
        ZUORA_BASE_URL=sim.base_url,
        ZUORA_CLIENT_ID=sim.client_id,
        ZUORA_CLIENT_SECRET=sim.client_secret,
    )
    reader, writer = os.pipe()
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "aiozuora",
        "results",
        key,
        "--output",
        "-",
        stdout=writer,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    os.close(writer)
    assert process.stderr is not None

    # Like `| head -c 100`: read a little, then close the pipe.
    start = await asyncio.to_thread(os.read, reader, 100)
    os.close(reader)
    errors = await asyncio.wait_for(process.stderr.read(), 30)
    code = await asyncio.wait_for(process.wait(), 30)

    assert start.startswith(b"Object Key") or b"Success" in start
    assert errors == b""
    assert code == 141
