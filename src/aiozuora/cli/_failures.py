"""How the command line turns a failure into one line and an exit code.

Exit codes: 0 all well, 1 some action failed or could not be stopped, 2 usage
error (bad key, bad option), 3 authentication or configuration error. Every
message says what to fix; none carries a traceback or a secret.
"""

from __future__ import annotations

from .._errors import (
    APIError,
    AuthenticationError,
    MassActionNotStoppableError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    WaitTimeoutError,
    ZuoraError,
)

__all__ = [
    "EXIT_ACTION_FAILED",
    "EXIT_CONFIG",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliFailure",
    "describe",
    "exit_code_of",
]

EXIT_OK = 0
EXIT_ACTION_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3

_CREDENTIALS_HINT = (
    "check ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET (or --client-id and "
    "--client-secret), and that ZUORA_BASE_URL is the environment they belong to"
)


class CliFailure(Exception):
    """A failure the command line reports as one line, with an exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        self.message = message
        self.exit_code = exit_code
        super().__init__(message)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def exit_code_of(error: BaseException) -> int:
    """The exit code a failure of this kind ends a command with."""
    if isinstance(error, CliFailure):
        return error.exit_code
    if isinstance(error, (AuthenticationError, PermissionDeniedError, TransportError)):
        return EXIT_CONFIG
    if isinstance(error, (NotFoundError, ValueError)):
        return EXIT_USAGE
    return EXIT_ACTION_FAILED


def describe(error: BaseException, *, base_url: str | None = None) -> str:
    """One line that says what went wrong and what to do about it."""
    if isinstance(error, CliFailure):
        return error.message
    if isinstance(error, AuthenticationError):
        return f"Zuora refused the credentials ({_first_line(error)}): " + (
            _CREDENTIALS_HINT
        )
    if isinstance(error, PermissionDeniedError):
        return (
            f"Zuora refused the call ({_first_line(error)}): the OAuth client's user "
            "lacks a permission, or ZUORA_ENTITY_IDS names an entity it cannot use"
        )
    if isinstance(error, TransportError):
        where = base_url or error.url or "Zuora"
        return (
            f"cannot reach {where} ({error.message}): check ZUORA_BASE_URL "
            "(or --base-url) and the network"
        )
    if isinstance(error, NotFoundError):
        return (
            f"no such mass action ({_first_line(error)}): check the bulk key, and "
            "ZUORA_ENTITY_IDS on a multi-entity tenant"
        )
    if isinstance(error, MassActionNotStoppableError):
        return _first_line(error)
    if isinstance(error, WaitTimeoutError):
        return f"{_first_line(error)}: wait longer with --timeout"
    if isinstance(error, APIError):
        return f"Zuora answered with an error: {_first_line(error)}"
    if isinstance(error, ZuoraError):
        return _first_line(error)
    return _first_line(error)
