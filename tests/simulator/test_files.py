"""GET /v1/files/{file-id}, on the API's origin or on a separate one."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from aiozuora.simulator import ZuoraSimulator

from .conftest import Api, ManualClock, unzip_single


async def test_file_needs_a_token_on_the_api_origin(api: Api) -> None:
    key = api.sim.seed_action("Completed", total=4)
    url = (await api.get(key))["outputURL"]
    status, _, body = await api.call("GET", url, auth=False)
    assert (status, body) == (401, {"message": "Authentication error"})
    status, headers, archive = await api.call("GET", url)
    assert status == 200
    assert headers["Content-Type"] == "application/zip;charset=UTF-8"
    assert archive == api.sim.response_file(key)
    assert len(headers["Zuora-Request-Id"]) == 36
    assert "Concurrency-Limit-Limit" in headers


async def test_unknown_file_or_no_file_yet_is_404(api: Api) -> None:
    status, _, body = await api.call("GET", "/v1/files/" + "f" * 32)
    assert status == 404 and body["reasons"][0]["code"] == "50000040"
    key = api.sim.seed_action("Processing")
    file_id = api.sim.action(key).file_id
    assert (await api.call("GET", f"/v1/files/{file_id}"))[0] == 404


async def test_output_host_serves_files_without_authorization(
    clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    async with ZuoraSimulator(clock=clock, output_host="localhost") as sim:
        api = Api(sim, http)
        key = sim.seed_action("Stopped", total=6, processed=2, action_type="MPU")
        url = (await api.get(key))["outputURL"]
        parts = urlsplit(url)
        assert parts.hostname == "localhost" and parts.port == sim.port
        assert parts.path == f"/v1/files/{sim.action(key).file_id}"
        assert "signature=" in parts.query

        status, headers, archive = await api.call("GET", url, auth=False)
        assert status == 200
        assert headers["Content-Type"] == "application/zip;charset=UTF-8"
        rows = unzip_single(archive)[1].splitlines()
        assert rows[0].endswith(
            "Success,Error Message,Payment ID,Gateway Response Code,"
            "Gateway Response Message,Payment Status"
        )
        assert [row.split(",")[8] for row in rows[1:]] == ["Y", "Y", "", "", "", ""]
        download = sim.requests[-1]
        assert "Authorization" not in download.headers
        assert download.host is not None and download.host.startswith("localhost")

        # A second credential on a signed URL is refused, as storage services do.
        status, _, body = await api.call("GET", url)
        assert status == 400 and "Authorization" in body["reasons"][0]["message"]
        assert "Authorization" in sim.requests[-1].headers

        # A forged signature falls back to the bearer rule.
        forged = url.replace("signature=", "signature=0")
        assert (await api.call("GET", forged, auth=False))[0] == 401
