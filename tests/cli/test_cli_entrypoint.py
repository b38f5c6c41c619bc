"""The ``aiozuora`` console script and ``python -m aiozuora``."""

from __future__ import annotations

import subprocess

from .conftest import PYTHON, run_cli, subprocess_env


def test_help_lists_the_commands_and_exit_codes() -> None:
    result = run_cli("--help")

    assert result.exit_code == 0
    for command in ("demo", "simulate", "get", "stop", "wait", "submit", "results"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def test_version() -> None:
    result = run_cli("--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("aiozuora, version ")


def test_missing_cli_extra_is_one_line_and_exit_3() -> None:
    # A None entry in sys.modules makes `import click` fail as it would in an
    # environment installed without the cli extra.
    code = (
        "import sys; sys.modules['click'] = None; "
        "from aiozuora.__main__ import main; main()"
    )

    process = subprocess.run(
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env=subprocess_env(),
    )

    assert process.returncode == 3
    assert process.stderr.strip().splitlines() == [process.stderr.strip()]
    assert "pip install 'aiozuora[cli]'" in process.stderr


def test_every_command_takes_json() -> None:
    for command in ("demo", "simulate", "get", "stop", "wait", "submit", "results"):
        result = run_cli(command, "--help")

        assert result.exit_code == 0
        assert "--json" in result.stdout


def test_unknown_command_and_option_are_usage_errors() -> None:
    assert run_cli("frobnicate").exit_code == 2
    assert run_cli("get", "--no-such-option").exit_code == 2
