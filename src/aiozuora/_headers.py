"""Request headers and URLs: what every call to Zuora carries, checked early."""

from __future__ import annotations

import ipaddress
import platform
import re
from collections.abc import Iterable

from yarl import URL

from ._version import __version__

__all__ = [
    "USER_AGENT",
    "check_base_url",
    "check_url",
    "id_list",
    "is_loopback",
    "same_origin",
]

USER_AGENT = f"aiozuora/{__version__} Python/{platform.python_version()}"

# Entity and org ids are UUIDs (with or without hyphens) in Zuora; letters,
# digits and hyphens keep any id Zuora issues while refusing anything that
# would break the comma-joined header.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def id_list(value: str | Iterable[str] | None, header: str) -> str | None:
    """The comma-joined header value for entity or org ids, or None when unset.

    Each id is letters, digits and hyphens; a ``ValueError`` names the header
    and the id at fault.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if "," in value:
            raise ValueError(
                f"{header}: give several ids as a list, not one comma-joined string"
            )
        ids = [value]
    else:
        ids = list(value)
    if not ids:
        raise ValueError(f"{header}: give at least one id, or None to send none")
    for entry in ids:
        if not isinstance(entry, str) or not _ID.fullmatch(entry):
            raise ValueError(
                f"{header}: each id is 1 to 64 letters, digits or hyphens "
                f"(Zuora's are UUIDs); got {entry!r}"
            )
    if len(set(ids)) != len(ids):
        raise ValueError(f"{header}: an id is listed twice in {ids!r}")
    return ",".join(ids)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str | URL, what: str) -> URL:
    """``url`` parsed, if it is absolute https, or http on a loopback host."""
    parsed = URL(url) if isinstance(url, str) else url
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{what} must be an absolute https:// URL, not {url!r}")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise ValueError(
            f"{what} {url!r} uses http://, which is allowed only for loopback hosts "
            "(localhost, 127.0.0.1, ::1) such as the simulator; use https://"
        )
    if parsed.user is not None or parsed.password is not None:
        raise ValueError(f"{what} must not carry a user name or password")
    return parsed


def check_base_url(url: str) -> URL:
    """The base URL without a trailing slash, query or fragment."""
    parsed = check_url(url, "base_url")
    if parsed.query_string or parsed.fragment:
        raise ValueError(f"base_url must not have a query or fragment: {url!r}")
    return parsed.with_path(parsed.path.rstrip("/"))


def same_origin(a: URL, b: URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
