"""Bad input gets a clear answer: what was wrong and what is allowed, before
any request whenever the SDK can tell by itself."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from typing import Any

import pytest

from aiozuora import (
    AuthenticationError,
    Environment,
    PollPolicy,
    RetryPolicy,
    ZuoraClient,
    track_id,
)
from aiozuora._mass_actions import _check_content


def sent(sim: Any) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests]


# -- credentials ----------------------------------------------------------------


async def test_wrong_client_secret_names_what_to_check(
    sim: Any, fast_retry: RetryPolicy
) -> None:
    key = sim.seed_action("Processing")
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret="not-the-secret",
        retry=fast_retry,
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.request("GET", f"/v1/bulk/{key}")
    text = str(caught.value)
    assert text.startswith("HTTP 401: Zuora refused the OAuth client credentials")
    assert "client_id and client_secret" in text and sim.base_url in text
    assert "not-the-secret" not in text and "not-the-secret" not in repr(client)
    # Refused credentials are not retried, and nothing reached /v1.
    assert sent(sim) == ["POST /oauth/token"]


async def test_a_revoked_client_is_told_the_same_way(
    sim: Any, fast_retry: RetryPolicy
) -> None:
    sim.revoke_client()
    async with ZuoraClient(
        sim.base_url,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        retry=fast_retry,
    ) as client:
        with pytest.raises(AuthenticationError, match="refused the OAuth client"):
            await client.request("GET", "/v1/bulk/abc")
    assert sent(sim) == ["POST /oauth/token"]


async def test_a_refused_static_token_says_it_is_never_refreshed(
    sim: Any, fast_retry: RetryPolicy
) -> None:
    async with ZuoraClient(
        sim.base_url, access_token="stale-token", retry=fast_retry
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.request("GET", "/v1/bulk/abc")
    assert "never refreshed" in str(caught.value)
    assert "stale-token" not in str(caught.value)
    assert sent(sim) == ["GET /v1/bulk/abc"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "credentials missing: give client_id and client_secret"),
        ({"client_id": "id-only"}, "credentials missing"),
        (
            {"access_token": "t", "client_id": "i", "client_secret": "s"},
            "either access_token or client_id and client_secret, not both",
        ),
        ({"access_token": ""}, "access_token must be a non-empty string"),
        ({"access_token": "abc\r\nX-Evil: 1"}, "printable US-ASCII without spaces"),
        ({"access_token": "Bearer abc"}, "without 'Bearer '"),
    ],
)
def test_unusable_credentials_are_refused_when_the_client_is_made(
    options: dict[str, str], words: str
) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        ZuoraClient("https://rest.test.zuora.com", **options)
    assert "X-Evil" not in str(caught.value)


# -- where to connect -----------------------------------------------------------


def test_an_unknown_environment_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        Environment.from_name("us-staging")
    text = str(caught.value)
    assert "unknown Zuora environment 'us-staging'" in text
    assert all(member.cli_name in text for member in Environment)


def test_an_environment_name_given_as_base_url_points_to_from_name() -> None:
    with pytest.raises(ValueError, match=r"Environment.from_name\('eu-sandbox'\)"):
        ZuoraClient("eu-sandbox", access_token="t")
    client = ZuoraClient(Environment.from_name("eu-sandbox"), access_token="t")
    assert client.base_url == "https://rest.test.eu.zuora.com"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://rest.zuora.com", "http://, which is allowed only for loopback hosts"),
        ("http://10.0.0.8:8080", "allowed only for loopback hosts"),
        ("ftp://rest.zuora.com", "absolute https:// URL"),
        ("rest.zuora.com", "absolute https:// URL"),
        ("https://user:pw@rest.zuora.com", "user name or password"),
        ("https://rest.zuora.com/?tenant=1", "query or fragment"),
    ],
)
def test_base_urls_that_are_not_safe_are_refused(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ZuoraClient(url, access_token="t")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"]
)
def test_http_is_allowed_for_loopback_hosts(url: str) -> None:
    assert ZuoraClient(url, access_token="t").base_url == url


# -- numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"timeout": -1}, "timeout must be a finite number of seconds > 0, not -1"),
        ({"timeout": 0}, "timeout must be"),
        ({"timeout": float("inf")}, "timeout must be"),
        ({"timeout": "30"}, "timeout must be"),
        ({"max_connections": 0}, "max_connections must be a whole number >= 1"),
        ({"max_connections": -5}, "max_connections must be"),
        ({"max_connections": 2.5}, "max_connections must be"),
        ({"retry": {"max_attempts": 3}}, "retry must be a RetryPolicy"),
    ],
)
def test_bad_client_options_name_the_option_and_the_allowed_values(
    options: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        ZuoraClient("https://rest.test.zuora.com", access_token="t", **options)


@pytest.mark.parametrize(
    ("policy", "options", "words"),
    [
        (RetryPolicy, {"max_attempts": 0}, "max_attempts must be a whole number"),
        (RetryPolicy, {"initial_backoff": -1}, "initial_backoff must be"),
        (RetryPolicy, {"deadline": -3}, "deadline must be"),
        (PollPolicy, {"initial_interval": -1}, "initial_interval must be"),
        (PollPolicy, {"jitter": 1.5}, "jitter must be a fraction"),
    ],
)
def test_negative_policy_values_are_refused(
    policy: type, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        policy(**options)


# -- track ids ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "must not be empty"),
        ("x" * 65, "at most 64 characters"),
        ("batch:42", "colon, semicolon, double quote or single quote"),
        ("lot'7", "single quote"),
        ("é", "US-ASCII"),
        ("a\nb", "control characters"),
        (" padded", "start or end with a space"),
    ],
)
async def test_a_track_id_breaking_zuoras_rules_is_refused_before_any_request(
    client: ZuoraClient, sim: Any, value: str, words: str
) -> None:
    with pytest.raises(ValueError, match=words), track_id(value):
        await client.request("GET", "/v1/bulk/abc")
    assert sim.requests == []


# -- a closed client --------------------------------------------------------------


async def test_a_closed_client_refuses_every_use_with_a_clear_message(
    client: ZuoraClient, sim: Any
) -> None:
    await client.close()
    message = "this ZuoraClient is closed; create a new one"
    with pytest.raises(RuntimeError, match=message):
        await client.request("GET", "/v1/bulk/abc")
    with pytest.raises(RuntimeError, match=message):
        async with client:
            pass
    with pytest.raises(RuntimeError, match=message):
        client._operation("zuora.request")
    await client.close()  # closing twice is fine
    assert client.closed and "closed" in repr(client)
    assert sim.requests == []


# -- mass actions -----------------------------------------------------------------

BAD_KEYS = [
    ("", "must not be empty"),
    ("   ", "letters and digits only"),
    ("a/b", "letters and digits only"),
    ("..", "letters and digits only"),
    ("../v1/files/x", "letters and digits only"),
    ("8a90a0b1%2F", "letters and digits only"),
    ("key.csv", "letters and digits only"),
    ("x" * 65, "at most 64 characters"),
    (None, "must be a string of letters and digits, not NoneType"),
]


@pytest.mark.parametrize(("key", "words"), BAD_KEYS)
async def test_a_bad_bulk_key_is_refused_by_every_method_before_any_request(
    client: ZuoraClient, sim: Any, key: Any, words: str
) -> None:
    mass = client.mass_actions
    for call in (
        mass.get(key),
        mass.stop(key),
        mass.wait(key),
        mass.stop_and_wait(key),
        mass.response_file(key),
    ):
        with pytest.raises(ValueError, match=words):
            await call
    (outcome,) = await mass.stop_many([key])
    assert isinstance(outcome.error, ValueError) and not outcome.ok
    assert sim.requests == []


CSV = b"Object Key,Object Type\r\nK1,Invoice Item\r\n"


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("file", "action_type", "words"),
    [
        (
            CSV,
            "UpdateAccountingCodes",
            "unknown mass action type 'UpdateAccountingCodes'; "
            "Zuora knows UpdateAccountingCode, CreateRevenueSchedule",
        ),
        (CSV, "", "unknown mass action type ''"),
        (
            b"a" * (4 * 1024 * 1024 + 1),
            "MPU",
            r"at most 4194304 bytes \(4 MB\); "
            "this one has 4194305",
        ),
        (b"", "MPU", "upload.csv is empty: a mass action needs a header and records"),
        (b"\xef\xbb\xbf\r\n \r\n", "MPU", "is empty"),
        (
            b"Object Key,Object Type\r\n",
            "UpdateAccountingCode",
            "has a header row but no records",
        ),
        (
            b"Object Key,Object Type\r\n,\r\n",
            "UpdateAccountingCode",
            "has a header row but no records",
        ),
        (zipped({"a.csv": b""}), "MPU", "the CSV in upload.zip is empty"),
        (zipped({"a.csv": CSV, "b.csv": CSV}), "MPU", "exactly one .csv file"),
        (b"PK\x03\x04 not really a zip", "MPU", "not a readable zip file"),
    ],
)
async def test_an_unusable_upload_is_refused_before_any_request(
    client: ZuoraClient, sim: Any, file: bytes, action_type: str, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        await client.mass_actions.submit(file, action_type)
    assert sim.requests == []


def test_a_zip_that_inflates_hugely_is_checked_without_inflating_it() -> None:
    # 100 MB of blank lines compress to a few hundred KB; the check reads only
    # the start of the CSV, and leaves the size inside the zip to Zuora.
    bomb = zipped({"a.csv": CSV + b"\r\n" * (50 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        assert _check_content(bomb, "upload.zip") is True
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        (
            {"concurrency": 0},
            ValueError,
            "concurrency must be a whole number of at least 1, not 0",
        ),
        ({"concurrency": -3}, ValueError, "concurrency must be"),
        ({"concurrency": 2.5}, ValueError, "concurrency must be"),
        ({"timeout": -1}, ValueError, "timeout must be a finite number of seconds > 0"),
        ({"timeout": float("nan")}, ValueError, "timeout must be"),
        ({"poll": {"initial_interval": 1}}, TypeError, "poll must be a PollPolicy"),
    ],
)
async def test_bad_stop_many_options_are_refused_before_any_request(
    client: ZuoraClient, sim: Any, options: dict[str, Any], error: type, words: str
) -> None:
    key = sim.seed_action("Processing")
    with pytest.raises(error, match=words):
        await client.mass_actions.stop_many([key], **options)
    if "concurrency" not in options:
        with pytest.raises(error, match=words):
            await client.mass_actions.wait(key, **options)
    assert sim.requests == []


async def test_a_closed_clients_mass_actions_refuse_to_run(
    client: ZuoraClient, sim: Any
) -> None:
    mass = client.mass_actions
    await client.close()
    key = sim.seed_action("Processing")
    with pytest.raises(RuntimeError, match="this ZuoraClient is closed"):
        await mass.get(key)
    with pytest.raises(RuntimeError, match="this ZuoraClient is closed"):
        client.mass_actions  # noqa: B018
    assert sim.requests == []
