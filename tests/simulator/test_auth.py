"""The token endpoint and bearer authentication."""

from __future__ import annotations

import aiohttp

from aiozuora.simulator import ZuoraSimulator

from .conftest import Api, ManualClock


async def test_token_has_zuoras_shape_and_authorizes_v1_calls(api: Api) -> None:
    async with api.http.post(
        f"{api.sim.base_url}/oauth/token",
        data=api.credentials(),
    ) as response:
        body = await response.json()
        assert response.status == 200
        assert response.headers["X-RateLimit-Limit-minute"] == "100"
        assert int(response.headers["X-RateLimit-Remaining-minute"]) < 100
        assert len(response.headers["Zuora-Request-Id"]) == 36
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) == 32
    assert body["jti"] and body["scope"].startswith("user.")

    api.token = body["access_token"]
    key = api.sim.seed_action("Pending")
    assert (await api.get(key))["status"] == "Pending"


def test_generated_credentials_have_zuoras_lengths() -> None:
    sim = ZuoraSimulator()
    assert len(sim.client_id) == 36 and sim.client_id.count("-") == 4
    assert 0 < len(sim.client_secret) <= 42
    assert ZuoraSimulator().client_id != sim.client_id
    assert sim.client_secret not in repr(sim)


async def test_wrong_secret_is_refused_with_a_message(api: Api) -> None:
    status, headers, body = await api.call(
        "POST",
        "/oauth/token",
        auth=False,
        data=api.credentials(client_secret="wrong"),
    )
    assert status == 401
    assert body == {"message": "Authentication error"}
    assert len(headers["Zuora-Request-Id"]) == 36


async def test_missing_form_fields_are_a_category_22_refusal(api: Api) -> None:
    status, _, body = await api.call(
        "POST", "/oauth/token", auth=False, data={"grant_type": "client_credentials"}
    )
    assert status == 400
    assert body["success"] is False
    assert body["reasons"][0]["code"] == "50000022"
    assert "client_id" in body["reasons"][0]["message"]


async def test_unsupported_grant_type_is_refused(api: Api) -> None:
    status, _, body = await api.call(
        "POST",
        "/oauth/token",
        auth=False,
        data=api.credentials(grant_type="password"),
    )
    assert status == 400
    assert body["reasons"][0]["code"] == "50000020"


async def test_missing_or_unknown_bearer_token_is_401(api: Api) -> None:
    key = api.sim.seed_action("Processing")
    status, headers, body = await api.call("GET", f"/v1/bulk/{key}", auth=False)
    assert (status, body) == (401, {"message": "Authentication error"})
    assert "Concurrency-Limit-Limit" in headers
    status, _, body = await api.call(
        "GET", f"/v1/bulk/{key}", headers={"Authorization": "Bearer nope"}
    )
    assert (status, body) == (401, {"message": "Authentication error"})
    status, _, body = await api.call(
        "GET", f"/v1/bulk/{key}", headers={"Authorization": "Basic abc"}
    )
    assert status == 401


async def test_tokens_expire_after_token_ttl(
    clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    async with ZuoraSimulator(clock=clock, token_ttl=60) as sim:
        api = Api(sim, http)
        key = sim.seed_action("Pending")
        await api.fetch_token()
        clock.advance(59)
        assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 200
        clock.advance(1)
        status, _, body = await api.call("GET", f"/v1/bulk/{key}")
        assert (status, body) == (401, {"message": "Authentication error"})


async def test_expire_tokens_refuses_old_tokens_but_not_new_ones(api: Api) -> None:
    key = api.sim.seed_action("Pending")
    old = await api.fetch_token()
    api.sim.expire_tokens()
    assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 401
    new = await api.fetch_token()
    assert new != old
    assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 200


async def test_revoke_client_refuses_credentials_and_tokens(api: Api) -> None:
    key = api.sim.seed_action("Pending")
    await api.fetch_token()
    api.sim.revoke_client()
    assert (await api.call("GET", f"/v1/bulk/{key}"))[0] == 401
    status, _, body = await api.call(
        "POST",
        "/oauth/token",
        auth=False,
        data=api.credentials(),
    )
    assert (status, body) == (401, {"message": "Authentication error"})
