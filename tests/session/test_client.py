"""The client itself: configuration checked early, headers, connection limit,
sessions, the escape hatch, and closing."""

from __future__ import annotations

import asyncio
import gc
import platform
import re
import warnings
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from aiozuora import (
    Environment,
    InvalidRequestError,
    NotFoundError,
    RetryPolicy,
    ZuoraClient,
    __version__,
)
from aiozuora.simulator import Fault, ZuoraSimulator

from .conftest import MakeClient, api_requests

ENTITY = "11e643f4-a3ee-8bad-b061-0025904c756d"
OTHER_ENTITY = "2c92c0f8-5e3f-4a2b-9c1d-0025904c7570"


# -- environments and base URLs ---------------------------------------------


def test_there_are_ten_https_environments() -> None:
    assert len(Environment) == 10
    assert all(e.value.startswith("https://rest.") for e in Environment)
    assert str(Environment.US_PRODUCTION_CLOUD_2) == "https://rest.zuora.com"


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("us-sandbox", Environment.US_CENTRAL_SANDBOX),
        ("us-api-sandbox-cloud-2", Environment.US_API_SANDBOX_CLOUD_2),
        ("EU_PRODUCTION", Environment.EU_PRODUCTION),
        ("eu-production", Environment.EU_PRODUCTION),
        ("sbx", Environment.US_API_SANDBOX_CLOUD_2),
        ("prod-na", Environment.US_PRODUCTION_CLOUD_1),
        ("apac-sandbox", Environment.APAC_CENTRAL_SANDBOX),
        ("https://rest.test.eu.zuora.com/", Environment.EU_CENTRAL_SANDBOX),
    ],
)
def test_environment_from_name(name: str, member: Environment) -> None:
    assert Environment.from_name(name) is member


def test_unknown_environment_lists_the_known_names() -> None:
    with pytest.raises(ValueError, match="eu-production"):
        Environment.from_name("mars-production")


async def test_base_url_from_an_environment_or_a_string() -> None:
    async with ZuoraClient(Environment.EU_PRODUCTION, access_token="t") as zuora:
        assert zuora.base_url == "https://rest.eu.zuora.com"
    async with ZuoraClient("https://rest.zuora.com/", access_token="t") as zuora:
        assert zuora.base_url == "https://rest.zuora.com"


@pytest.mark.parametrize(
    "url", ["http://localhost:8080", "http://127.0.0.1:9", "http://[::1]:8080/"]
)
def test_http_is_allowed_for_loopback(url: str) -> None:
    assert ZuoraClient(url, access_token="t").base_url.startswith("http://")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://rest.zuora.com", "only for loopback"),
        ("http://10.0.0.8:8080", "only for loopback"),
        ("ftp://rest.zuora.com", "https://"),
        ("rest.zuora.com", "https://"),
        ("https://rest.zuora.com/?x=1", "query"),
        ("https://user:pw@rest.zuora.com", "user name or password"),
    ],
)
def test_other_base_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        ZuoraClient(url, access_token="t")


# -- options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "credentials missing"),
        ({"client_id": "id"}, "credentials missing"),
        ({"client_secret": "s3cr3t-value"}, "credentials missing"),
        (
            {"client_id": "id", "client_secret": "s3cr3t-value", "access_token": "t"},
            "not both",
        ),
        ({"access_token": ""}, "non-empty"),
        ({"access_token": "t", "timeout": 0}, "timeout"),
        ({"access_token": "t", "timeout": float("inf")}, "timeout"),
        ({"access_token": "t", "max_connections": 0}, "max_connections"),
        ({"access_token": "t", "retry": {"max_attempts": 2}}, "RetryPolicy"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        ZuoraClient("https://rest.zuora.com", **options)

    assert "s3cr3t-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ("a,b", "as a list"),
        ([], "at least one"),
        (["ok", "has space"], "letters, digits or hyphens"),
        ([ENTITY, ENTITY], "listed twice"),
        (["x" * 65], "letters, digits or hyphens"),
    ],
)
@pytest.mark.parametrize("option", ["entity_ids", "org_ids"])
def test_bad_entity_and_org_ids_are_refused(
    option: str, ids: Any, problem: str
) -> None:
    header = "Zuora-Entity-Ids" if option == "entity_ids" else "Zuora-Org-Ids"
    with pytest.raises(ValueError, match=problem) as caught:
        ZuoraClient("https://rest.zuora.com", access_token="t", **{option: ids})

    assert header in str(caught.value)


def test_repr_shows_no_secret() -> None:
    zuora = ZuoraClient(
        "https://rest.zuora.com", client_id="id-1", client_secret="s3cr3t-value"
    )
    static = ZuoraClient("https://rest.zuora.com", access_token="tok3n-value")

    assert "s3cr3t-value" not in repr(zuora) + repr(zuora._auth)
    assert "tok3n-value" not in repr(static) + repr(static._auth)
    assert repr(zuora) == "ZuoraClient('https://rest.zuora.com', auth=oauth)"


# -- headers -----------------------------------------------------------------


async def test_headers_of_an_api_call(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    client = make_client(entity_ids=[ENTITY, OTHER_ENTITY], org_ids="org-1")

    await client._call_json(
        "GET", f"/v1/bulk/{bulk_key}", headers={"Zuora-Version": "2025-08-12"}
    )

    (request,) = api_requests(sim)
    headers = request.headers
    assert headers["Zuora-Entity-Ids"] == f"{ENTITY},{OTHER_ENTITY}"
    assert headers["Zuora-Org-Ids"] == "org-1"
    assert headers["Accept-Encoding"] == "gzip"
    assert headers["Zuora-Version"] == "2025-08-12"
    assert headers["User-Agent"] == (
        f"aiozuora/{__version__} Python/{platform.python_version()}"
    )
    assert re.fullmatch(r"aiozuora/\S+ Python/\d+\.\d+\.\d+\S*", headers["User-Agent"])
    assert re.fullmatch(r"Bearer \S+", headers["Authorization"])
    assert "Idempotency-Key" not in headers


async def test_a_bad_idempotency_key_is_refused_before_any_request(
    client: ZuoraClient, sim: Any
) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key"):
        await client._call_json("POST", "/v1/bulk", idempotency_key="k" * 256)

    assert sim.requests == []


# -- connections and sessions --------------------------------------------------


async def test_max_connections_keeps_under_zuoras_concurrency_limit(
    make_client: MakeClient, fast_retry: RetryPolicy
) -> None:
    async with ZuoraSimulator(concurrency_limit=5, latency=0.03) as sim:
        key = sim.seed_action("Processing", total=100)
        client = make_client(
            base_url=sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            max_connections=5,
        )

        await asyncio.gather(
            *(client._call_json("GET", f"/v1/bulk/{key}") for _ in range(20))
        )

        assert {r.status for r in api_requests(sim)} == {200}
        await client.close()


async def test_without_the_limit_zuora_would_refuse_some_calls(
    make_client: MakeClient,
) -> None:
    async with ZuoraSimulator(concurrency_limit=5, latency=0.03) as sim:
        key = sim.seed_action("Processing", total=100)
        client = make_client(
            base_url=sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            max_connections=20,
            retry=RetryPolicy(max_attempts=1),
        )

        await asyncio.gather(
            *(client._call_json("GET", f"/v1/bulk/{key}") for _ in range(20)),
            return_exceptions=True,
        )

        assert 429 in {r.status for r in api_requests(sim)}
        await client.close()


async def test_a_callers_session_is_used_and_left_open(
    make_client: MakeClient, sim: Any, bulk_key: str
) -> None:
    seen: list[tuple[str, str | None]] = []

    async def on_request_end(
        session: aiohttp.ClientSession,
        context: Any,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        encoding = params.response.headers.get("Content-Encoding")
        seen.append((params.url.path, encoding))

    tracing = aiohttp.TraceConfig()
    tracing.on_request_end.append(on_request_end)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as session:
        client = make_client(session=session)
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        # A body over 1000 bytes comes back gzipped, and is read as JSON.
        sim.inject(Fault(400, code="50000020", message="x" * 2000))
        with pytest.raises(InvalidRequestError, match="x" * 2000):
            await client._call_json("GET", f"/v1/bulk/{bulk_key}")
        await client.close()

        assert not session.closed
        assert seen == [
            ("/oauth/token", None),
            (f"/v1/bulk/{bulk_key}", None),
            (f"/v1/bulk/{bulk_key}", "gzip"),
        ]


async def test_a_closed_callers_session_is_a_clear_error(
    make_client: MakeClient, bulk_key: str
) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = make_client(session=session)

    with pytest.raises(RuntimeError, match="session given to ZuoraClient is closed"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")


async def test_the_connector_limit_is_max_connections(sim: Any) -> None:
    async with ZuoraClient(sim.base_url, access_token="t", max_connections=7) as c:
        assert c._open_session().connector is not None
        assert c._open_session().connector.limit == 7
    async with ZuoraClient(sim.base_url, access_token="t") as c:
        assert c._open_session().connector.limit == 20  # type: ignore[union-attr]


# -- the escape hatch --------------------------------------------------------------


async def test_request_calls_any_endpoint(
    client: ZuoraClient,
    sim: Any,
    bulk_key: str,
    span_exporter: InMemorySpanExporter,
) -> None:
    body = await client.request(
        "get", f"/v1/bulk/{bulk_key}", params={"fields": "status"}
    )

    assert body["status"] == "Processing"
    (request,) = api_requests(sim)
    assert request.query == {"fields": "status"}
    (attempt,) = [s for s in span_exporter.get_finished_spans() if s.name == "GET"]
    assert (attempt.attributes or {})["url.full"] == (
        f"{sim.base_url}/v1/bulk/{bulk_key}?fields=status"
    )


async def test_request_maps_errors(client: ZuoraClient, sim: Any) -> None:
    with pytest.raises(NotFoundError):
        await client.request("GET", "/v1/bulk/0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize(
    "path", ["v1/bulk", "//evil.example/v1", "https://evil.example/v1/bulk", ""]
)
async def test_request_takes_only_a_path(
    client: ZuoraClient, sim: Any, path: str
) -> None:
    with pytest.raises(ValueError, match="path must start"):
        await client.request("GET", path)

    assert sim.requests == []


# -- closing -----------------------------------------------------------------


async def test_close_is_idempotent_and_a_closed_client_says_so(
    make_client: MakeClient, bulk_key: str
) -> None:
    client = make_client()
    await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    await client.close()
    await client.close()

    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client._call_json("GET", f"/v1/bulk/{bulk_key}")
    with pytest.raises(RuntimeError, match="closed"):
        client._operation("zuora.test")
    with pytest.raises(RuntimeError, match="closed"):
        await client.request("GET", f"/v1/bulk/{bulk_key}")
    with pytest.raises(RuntimeError, match="closed"):
        async with client:
            pass


async def test_no_unclosed_session_warnings(sim: Any, bulk_key: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        never_used = ZuoraClient(sim.base_url, access_token="t")
        used_without_context = ZuoraClient(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        )
        await used_without_context._call_json("GET", f"/v1/bulk/{bulk_key}")
        await used_without_context.close()
        async with ZuoraClient(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        ) as cancelled:
            sim.inject(Fault(status=None, delay=1.0))
            call = asyncio.ensure_future(
                cancelled._call_json("GET", f"/v1/bulk/{bulk_key}")
            )
            await asyncio.sleep(0.05)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        del never_used, used_without_context, cancelled, call
        gc.collect()

    assert [str(w.message) for w in caught] == []


async def test_mass_actions_is_one_object_per_client(client: ZuoraClient) -> None:
    assert client.mass_actions is client.mass_actions
    assert type(client.mass_actions).__name__ == "MassActions"
