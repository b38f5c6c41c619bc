"""Where the command line finds Zuora: options first, then the environment."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from .. import Environment, RetryPolicy, ZuoraClient
from .._client import environment_names
from ._failures import EXIT_CONFIG, CliFailure, Settings

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "Connection",
    "Seconds",
    "connection_options",
    "json_option",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Every variable the connection options read, in the order --help lists them.
ENVIRONMENT_VARIABLES = (
    "ZUORA_BASE_URL",
    "ZUORA_CLIENT_ID",
    "ZUORA_CLIENT_SECRET",
    "ZUORA_ACCESS_TOKEN",
    "ZUORA_ENTITY_IDS",
    "ZUORA_MAX_ATTEMPTS",
    "ZUORA_REQUEST_TIMEOUT",
)

#: The request timeout ZuoraClient uses when given none.
DEFAULT_REQUEST_TIMEOUT = 30.0


class Seconds(click.FloatRange):
    """A finite number of seconds greater than zero: no nan, no inf."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(
                f"{value!r} is not a finite number of seconds greater than 0",
                param,
                ctx,
            )
        return number


def _known_environments() -> str:
    return ", ".join(environment_names())


@dataclass(frozen=True)
class Connection:
    """The settings one command connects to Zuora with."""

    base_url: str | None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    entity_ids: tuple[str, ...] = ()
    max_attempts: int | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    #: Which option or variable each setting came from, by parameter name.
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def source(self, name: str) -> str:
        """The option or variable the user set ``name`` with (the variable when
        they set neither)."""
        return self.sources.get(name, f"ZUORA_{name.upper()}")

    def target(self) -> str | Environment:
        """The base URL, or the Environment an environment name stands for."""
        if not self.base_url:
            raise CliFailure(
                "no Zuora base URL: set ZUORA_BASE_URL or pass --base-url (a URL "
                "such as https://rest.apisandbox.zuora.com, or an environment name "
                "such as us-sandbox)",
                EXIT_CONFIG,
            )
        value = self.base_url.strip()
        if "://" in value:
            return value.rstrip("/")
        try:
            return Environment.from_name(value)
        except ValueError:
            raise CliFailure(
                f"{self.source('base_url')} {value!r} is neither a URL nor a known "
                f"environment name; known: {_known_environments()}",
                EXIT_CONFIG,
            ) from None

    def client(self) -> ZuoraClient:
        """A ZuoraClient for these settings; a CliFailure says what is missing."""
        target = self.target()
        oauth = [
            self.source(name)
            for name, value in (
                ("client_id", self.client_id),
                ("client_secret", self.client_secret),
            )
            if value
        ]
        if self.access_token and oauth:
            raise CliFailure(
                f"both an access token ({self.source('access_token')}) and OAuth "
                f"client credentials ({' and '.join(oauth)}) are set: unset one of "
                "them (the token is used as it is; the OAuth client has tokens "
                "fetched and refreshed)",
                EXIT_CONFIG,
            )
        if not self.access_token:
            missing = [
                name
                for name, value in (
                    ("ZUORA_CLIENT_ID", self.client_id),
                    ("ZUORA_CLIENT_SECRET", self.client_secret),
                )
                if not value
            ]
            if missing:
                raise CliFailure(
                    f"missing {' and '.join(missing)}: set "
                    f"{'them' if len(missing) > 1 else 'it'} in the environment or "
                    "pass --client-id / --client-secret (or give a token with "
                    "ZUORA_ACCESS_TOKEN)",
                    EXIT_CONFIG,
                )
        retry = (
            None
            if self.max_attempts is None
            else RetryPolicy(max_attempts=self.max_attempts)
        )
        try:
            return ZuoraClient(
                target,
                client_id=None if self.access_token else self.client_id,
                client_secret=None if self.access_token else self.client_secret,
                access_token=self.access_token or None,
                entity_ids=list(self.entity_ids) or None,
                retry=retry,
                timeout=self.request_timeout,
            )
        except ValueError as error:
            # The message names the setting; it never contains the secret.
            raise CliFailure(f"bad configuration: {error}", EXIT_CONFIG) from None

    @property
    def display_url(self) -> str | None:
        try:
            target = self.target()
        except CliFailure:
            return None
        return target.value if isinstance(target, Environment) else target

    @property
    def settings(self) -> Settings:
        """What failure messages say about this connection."""
        return Settings(
            base_url=self.display_url,
            base_url_setting=self.source("base_url"),
            access_token_setting=(
                self.source("access_token") if self.access_token else None
            ),
            client_id_setting=self.source("client_id"),
            client_secret_setting=self.source("client_secret"),
        )


def _split_ids(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    ids: list[str] = []
    for item in value:
        ids.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(ids)


def json_option(function: F) -> F:
    """Add ``--json``: print the JSON shapes scripts rely on instead of tables."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print JSON for scripts instead of tables.",
    )(function)


_OPTION_OF = {
    "base_url": "--base-url",
    "client_id": "--client-id",
    "client_secret": "--client-secret",
    "access_token": "--access-token",
}


def _sources(ctx: click.Context) -> dict[str, str]:
    """For each setting given on the command line, the option's name."""
    return {
        name: option
        for name, option in _OPTION_OF.items()
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
    }


def connection_options(function: F) -> F:
    """Add the options that say which Zuora to talk to, and pass a Connection."""

    @click.option(
        "--base-url",
        envvar="ZUORA_BASE_URL",
        metavar="URL|NAME",
        show_envvar=True,
        help="Zuora's REST base URL, or an environment name such as us-sandbox.",
    )
    @click.option(
        "--client-id",
        envvar="ZUORA_CLIENT_ID",
        show_envvar=True,
        help="OAuth client id.",
    )
    @click.option(
        "--client-secret",
        envvar="ZUORA_CLIENT_SECRET",
        show_envvar=True,
        help="OAuth client secret (prefer the environment variable).",
    )
    @click.option(
        "--access-token",
        envvar="ZUORA_ACCESS_TOKEN",
        show_envvar=True,
        help="A bearer token to use instead of the OAuth client (not with it).",
    )
    @click.option(
        "--entity-id",
        "entity_ids",
        envvar="ZUORA_ENTITY_IDS",
        multiple=True,
        callback=_split_ids,
        show_envvar=True,
        help="Zuora-Entity-Ids on a multi-entity tenant (comma separated).",
    )
    @click.option(
        "--max-attempts",
        type=click.IntRange(min=1),
        envvar="ZUORA_MAX_ATTEMPTS",
        show_envvar=True,
        help="Attempts per call, retries included (1 turns retrying off).",
    )
    @click.option(
        "--request-timeout",
        type=Seconds(),
        envvar="ZUORA_REQUEST_TIMEOUT",
        default=DEFAULT_REQUEST_TIMEOUT,
        show_default=True,
        show_envvar=True,
        help="Seconds each HTTP attempt may take before it is given up (and "
        "retried, up to --max-attempts).",
    )
    @functools.wraps(function)
    def wrapper(
        *args: Any,
        base_url: str | None,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | None,
        entity_ids: tuple[str, ...],
        max_attempts: int | None,
        request_timeout: float,
        **kwargs: Any,
    ) -> Any:
        connection = Connection(
            base_url=base_url,
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            entity_ids=entity_ids,
            max_attempts=max_attempts,
            request_timeout=request_timeout,
            sources=_sources(click.get_current_context()),
        )
        return function(*args, connection=connection, **kwargs)

    return wrapper  # type: ignore[return-value]
