"""The README's promises that code can check: quick start and defaults."""

from __future__ import annotations

import dataclasses
import re

from aiozuora import DEFAULT_WAIT_TIMEOUT, Environment, PollPolicy, RetryPolicy

from .conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")

QUICK_START = [
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[cli]" '
    "&& .venv/bin/aiozuora demo",
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]" '
    "&& .venv/bin/pytest",
]


def test_quick_start_commands_are_in_the_readme() -> None:
    for command in QUICK_START:
        assert f"\n{command}\n" in README


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")

    assert f"\n{QUICK_START[1]}\n" in ci


def _table_default(setting: str) -> float:
    match = re.search(rf"\| `{setting}` \| ([0-9.]+)", README)
    assert match, f"{setting} is missing from the README's defaults table"
    return float(match.group(1))


def test_defaults_table_matches_the_policies() -> None:
    for policy in (RetryPolicy(), PollPolicy()):
        for field in dataclasses.fields(policy):
            assert _table_default(field.name) == getattr(policy, field.name), field.name
    assert _table_default("timeout") == DEFAULT_WAIT_TIMEOUT


def test_every_variable_the_command_line_reads_is_documented() -> None:
    from aiozuora.cli._config import ENVIRONMENT_VARIABLES

    for variable in ENVIRONMENT_VARIABLES:
        assert re.search(rf"^\| `{variable}` \| `--", README, re.MULTILINE), variable


def test_response_file_rows_is_called_as_the_readme_shows() -> None:
    from aiozuora import ResponseFile, RowOutcome

    assert callable(ResponseFile.rows)
    assert "response.rows(RowOutcome.FAILED)" in README
    assert RowOutcome.FAILED.value == "N"


def test_the_environment_table_matches_environment_from_name() -> None:
    rows = re.findall(
        r"^\| `([A-Z0-9_]+)` \| (.+?) \| `(https://[^`]+)` \|$", README, re.MULTILINE
    )
    assert {member for member, _, _ in rows} == {m.name for m in Environment}
    for member, names, url in rows:
        assert Environment[member].value == url
        for name in re.findall(r"`([^`]+)`", names):
            assert Environment.from_name(name) is Environment[member], name
