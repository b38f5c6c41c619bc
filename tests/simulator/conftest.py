"""Fixtures for the simulator's own tests: they talk to it with a plain
aiohttp session, as any HTTP client would."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from aiozuora.simulator import ZuoraSimulator


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


@pytest.fixture
async def csim(clock: ManualClock) -> AsyncIterator[ZuoraSimulator]:
    """A simulator on a manual clock: 10 s pending, 10 records/s, 5 s stopping,
    one record in ten fails."""
    async with ZuoraSimulator(
        clock=clock,
        pending_seconds=10,
        records_per_second=10,
        stopping_seconds=5,
        failure_rate=0.1,
    ) as simulator:
        yield simulator


class Api:
    """A thin client for the tests: gets a token, sends requests, returns
    (status, headers, parsed body)."""

    def __init__(self, sim: ZuoraSimulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http
        self.token: str | None = None

    def credentials(self, **changes: str) -> dict[str, str]:
        """The token request's form, with ``changes`` applied."""
        form = {
            "client_id": self.sim.client_id,
            "client_secret": self.sim.client_secret,
            "grant_type": "client_credentials",
        }
        form.update(changes)
        return form

    async def fetch_token(self) -> str:
        async with self.http.post(
            f"{self.sim.base_url}/oauth/token", data=self.credentials()
        ) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        self.token = body["access_token"]
        return self.token

    async def call(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> tuple[int, Any, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            if self.token is None:
                await self.fetch_token()
            headers.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("http") else f"{self.sim.base_url}{path}"
        async with self.http.request(method, url, headers=headers, **kwargs) as resp:
            raw = await resp.read()
            body: Any = raw
            if (
                resp.content_type == "application/json"
                and raw
                and (resp.headers.get("Content-Encoding") != "gzip")
            ):
                body = await resp.json()
            return resp.status, resp.headers, body

    async def get(self, bulk_key: str) -> dict[str, Any]:
        status, _, body = await self.call("GET", f"/v1/bulk/{bulk_key}")
        assert status == 200
        assert isinstance(body, dict)
        return body

    async def stop(self, bulk_key: str) -> dict[str, Any]:
        status, _, body = await self.call("PUT", f"/v1/bulk/{bulk_key}/stop")
        assert status == 200
        assert isinstance(body, dict)
        return body

    async def submit(
        self,
        content: bytes,
        params: dict[str, Any] | str | None = None,
        *,
        filename: str = "records.csv",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        form = aiohttp.FormData()
        form.add_field(
            "file", io.BytesIO(content), filename=filename, content_type="text/csv"
        )
        if params is None:
            params = {"actionType": "UpdateAccountingCode"}
        if not isinstance(params, str):
            import json

            params = json.dumps(params)
        form.add_field("params", params)
        return await self.call("POST", "/v1/bulk", data=form, headers=headers or {})


@pytest.fixture
def api_for(
    http: aiohttp.ClientSession,
) -> Callable[[ZuoraSimulator], Api]:
    return lambda sim: Api(sim, http)


@pytest.fixture
def api(csim: ZuoraSimulator, http: aiohttp.ClientSession) -> Api:
    return Api(csim, http)


def csv_bytes(rows: int, *, header: str = "Object Key,Object Type") -> bytes:
    lines = [header] + [f"K{index:04d},Invoice Item" for index in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def unzip_single(data: bytes) -> tuple[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = archive.namelist()
        return name, archive.read(name).decode("utf-8")


SimFactory = Callable[..., AbstractAsyncContextManager[ZuoraSimulator]]
