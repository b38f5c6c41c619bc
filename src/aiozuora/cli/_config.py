"""Where the command line finds Zuora: options first, then the environment."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from .. import Environment, RetryPolicy, ZuoraClient
from ._failures import EXIT_CONFIG, CliFailure

__all__ = ["Connection", "connection_options", "json_option"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Connection:
    """The settings one command connects to Zuora with."""

    base_url: str | None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    entity_ids: tuple[str, ...] = ()
    max_attempts: int | None = None

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
        except ValueError as error:
            raise CliFailure(
                f"ZUORA_BASE_URL {value!r} is neither a URL nor an environment "
                f"name ({error})",
                EXIT_CONFIG,
            ) from None

    def client(self) -> ZuoraClient:
        """A ZuoraClient for these settings; a CliFailure says what is missing."""
        target = self.target()
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
        help="A bearer token to use instead of the OAuth client.",
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
    @functools.wraps(function)
    def wrapper(
        *args: Any,
        base_url: str | None,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | None,
        entity_ids: tuple[str, ...],
        max_attempts: int | None,
        **kwargs: Any,
    ) -> Any:
        connection = Connection(
            base_url=base_url,
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            entity_ids=entity_ids,
            max_attempts=max_attempts,
        )
        return function(*args, connection=connection, **kwargs)

    return wrapper  # type: ignore[return-value]
