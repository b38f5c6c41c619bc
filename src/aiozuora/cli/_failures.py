"""How the command line turns a failure into one line and an exit code.

Exit codes: 0 all well, 1 some action failed or could not be stopped, 2 usage
error (bad key, bad option, bad input file), 3 authentication or configuration
error, 130 interrupted (Ctrl-C). Every message says what to fix; none carries
a traceback (unless -v asks for one) or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import (
    APIError,
    AuthenticationError,
    MassActionNotStoppableError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    WaitTimeoutError,
)

__all__ = [
    "EXIT_ACTION_FAILED",
    "EXIT_CONFIG",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliFailure",
    "Settings",
    "describe",
    "exit_code_of",
]

EXIT_OK = 0
EXIT_ACTION_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
#: What shells report for a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130
#: The reader of stdout went away (``aiozuora ... | head``): 128 + SIGPIPE, as a
#: process killed by that signal would report.
EXIT_BROKEN_PIPE = 141


class CliFailure(Exception):
    """A failure the command line reports as one line, with an exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        self.message = message
        self.exit_code = exit_code
        super().__init__(message)


@dataclass(frozen=True)
class Settings:
    """What a message needs to know about the connection it is about: where it
    pointed and which setting (an option or a variable) said so."""

    base_url: str | None = None
    base_url_setting: str = "ZUORA_BASE_URL"
    access_token_setting: str | None = None
    client_id_setting: str = "ZUORA_CLIENT_ID"
    client_secret_setting: str = "ZUORA_CLIENT_SECRET"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _ids(error: APIError) -> str:
    """The HTTP status, code and request ids of an answer, without its message."""
    head = f"HTTP {error.status}" if error.status is not None else "Zuora error"
    if error.code is not None:
        head += f", code {error.code}"
    ids = [
        f"{name}={value}"
        for name, value in (
            ("request_id", error.request_id),
            ("track_id", error.track_id),
        )
        if value
    ]
    return head + (f" [{', '.join(ids)}]" if ids else "")


def exit_code_of(error: BaseException) -> int:
    """The exit code a failure of this kind ends a command with."""
    if isinstance(error, CliFailure):
        return error.exit_code
    if isinstance(error, (AuthenticationError, PermissionDeniedError, TransportError)):
        return EXIT_CONFIG
    if isinstance(error, WaitTimeoutError):
        cause = error.last_error
        if error.last is None and isinstance(cause, TransportError):
            return EXIT_CONFIG
        return EXIT_ACTION_FAILED
    if isinstance(error, (NotFoundError, ValueError, TypeError)):
        return EXIT_USAGE
    return EXIT_ACTION_FAILED


def unreachable(error: TransportError, settings: Settings) -> str:
    """``cannot reach ...``: the host, why, and what to check."""
    where = settings.base_url or error.url or "Zuora"
    why = error.message
    if error.attempts > 1:
        why += (
            f" per attempt, {error.attempts} attempts"
            if error.timed_out
            else (f", {error.attempts} attempts")
        )
    advice = f"check {settings.base_url_setting} and the network"
    if error.timed_out:
        advice += ", or allow longer with --request-timeout"
    return f"cannot reach {where} ({why}): {advice}"


def describe(error: BaseException, settings: Settings | None = None) -> str:
    """One line that says what went wrong and what to do about it."""
    settings = settings or Settings()
    if isinstance(error, CliFailure):
        return error.message
    if isinstance(error, AuthenticationError):
        if settings.access_token_setting is not None:
            # A static token cannot be refreshed: the fix is a new token, not
            # the OAuth client.
            return (
                f"Zuora refused the access token ({_ids(error)}): it may have "
                f"expired; give a new one in {settings.access_token_setting}, and "
                f"check that {settings.base_url_setting} is the environment it "
                "was issued for"
            )
        # The SDK's own advice names its parameters; this one names the
        # settings of the command line.
        return (
            f"Zuora refused the credentials ({_ids(error)}): check "
            f"{settings.client_id_setting} and {settings.client_secret_setting}, "
            f"and that {settings.base_url_setting} is the environment they "
            "belong to"
        )
    if isinstance(error, PermissionDeniedError):
        user = (
            "the access token's user"
            if settings.access_token_setting is not None
            else "the OAuth client's user"
        )
        return (
            f"Zuora refused the call ({_first_line(error)}): {user} lacks a "
            "permission, or ZUORA_ENTITY_IDS names an entity it cannot use"
        )
    if isinstance(error, TransportError):
        return unreachable(error, settings)
    if isinstance(error, NotFoundError):
        return (
            f"no such mass action ({_first_line(error)}): check the bulk key, and "
            "ZUORA_ENTITY_IDS on a multi-entity tenant"
        )
    if isinstance(error, MassActionNotStoppableError):
        return _first_line(error)
    if isinstance(error, WaitTimeoutError):
        return _wait_timeout(error, settings)
    if isinstance(error, APIError):
        return f"Zuora answered with an error: {_first_line(error)}"
    return _first_line(error)


def _wait_timeout(error: WaitTimeoutError, settings: Settings) -> str:
    cause = error.last_error
    if error.last is None and isinstance(cause, TransportError):
        return unreachable(cause, settings)
    seen = f"last seen {error.last.status}" if error.last else "no state seen"
    text = (
        f"mass action {error.bulk_key} did not reach a final state within "
        f"{error.timeout:g} s ({seen})"
    )
    if cause is None:
        return f"{text}: wait longer with --timeout"
    return f"{text}; the latest poll failed: {describe(cause, settings)}"
