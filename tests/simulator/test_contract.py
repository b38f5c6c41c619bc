"""Every kind of body the simulator sends, checked against the schemas of
Zuora's published OpenAPI description of these operations.

Zuora's timestamps are ``yyyy-MM-dd HH:mm:ss`` although the schema says
``date-time``, so formats are not enforced. Bodies that claim a schema are
also checked for fields the schema does not name.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from aiozuora.simulator import Fault

from ..conftest import shared_file
from .conftest import Api, ManualClock, csv_bytes

OPENAPI = "zuora-openapi-mass-updater.json"


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def schema(self, path: str, method: str, status: str) -> dict[str, Any]:
        response = self.document["paths"][path][method]["responses"][status]
        ref = response["content"]["application/json"]["schema"]["$ref"]
        return self.component(ref.rsplit("/", 1)[-1])

    def component(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.document["components"]["schemas"][name])

    def headers(self, path: str, method: str, status: str) -> dict[str, Any]:
        declared = self.document["paths"][path][method]["responses"][status]["headers"]
        resolved = {}
        for name, header in declared.items():
            if "$ref" in header:
                header = self.document["components"]["headers"][
                    header["$ref"].rsplit("/", 1)[-1]
                ]
            resolved[name] = header["schema"]
        return resolved


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    schema["additionalProperties"] = False
    for item in _objects(schema):
        item.setdefault("additionalProperties", False)
    return schema


def _objects(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _objects(value)


def validate(body: Any, schema: dict[str, Any], *, strict: bool = True) -> None:
    jsonschema.Draft4Validator(_strict(schema) if strict else schema).validate(body)


def validate_headers(headers: Any, declared: dict[str, Any]) -> None:
    for name, schema in declared.items():
        value = headers.get(name)
        if value is None:
            continue
        kind = schema.get("type")
        if kind == "integer":
            parsed: Any = int(value)
        elif kind == "number":
            parsed = float(value)
        else:
            parsed = value
        jsonschema.Draft4Validator(schema).validate(parsed)


@pytest.fixture
def contract() -> Contract:
    return Contract(json.loads(shared_file(OPENAPI).read_text(encoding="utf-8")))


async def test_token_body_and_headers(api: Api, contract: Contract) -> None:
    status, headers, body = await api.call(
        "POST",
        "/oauth/token",
        auth=False,
        data=api.credentials(),
    )
    assert status == 200
    validate(body, contract.schema("/oauth/token", "post", "200"))
    validate_headers(headers, contract.headers("/oauth/token", "post", "200"))
    assert set(body) == {"access_token", "expires_in", "jti", "scope", "token_type"}


async def test_post_bulk_bodies(api: Api, contract: Contract) -> None:
    status, headers, body = await api.submit(csv_bytes(3))
    assert status == 200 and body["success"] is True
    validate(body, contract.schema("/v1/bulk", "post", "200"))
    validate_headers(headers, contract.headers("/v1/bulk", "post", "200"))
    _, _, refused = await api.submit(b"a\n1\n", {"actionType": "Nope"})
    assert refused["success"] is False
    validate(refused, contract.schema("/v1/bulk", "post", "200"), strict=False)
    validate(refused, contract.component("CommonResponse"))


@pytest.mark.parametrize(
    "status", ["Pending", "Processing", "Stopping", "Stopped", "Completed", "Failed"]
)
async def test_get_bulk_in_every_state(
    api: Api, contract: Contract, status: str
) -> None:
    key = api.sim.seed_action(status, total=12)
    code, headers, body = await api.call("GET", f"/v1/bulk/{key}")
    assert code == 200 and body["status"] == status
    validate(body, contract.schema("/v1/bulk/{bulk-key}", "get", "200"))
    validate_headers(headers, contract.headers("/v1/bulk/{bulk-key}", "get", "200"))
    assert None not in body.values()


async def test_get_bulk_of_an_uploaded_action_through_its_life(
    api: Api, clock: ManualClock, contract: Contract
) -> None:
    schema = contract.schema("/v1/bulk/{bulk-key}", "get", "200")
    key = (await api.submit(csv_bytes(30)))[2]["bulkKey"]
    seen = []
    for step in (0, 10, 1, 5):
        clock.advance(step)
        body = await api.get(key)
        validate(body, schema)
        seen.append(body["status"])
    assert seen == ["Pending", "Processing", "Processing", "Completed"]


async def test_stop_bodies(api: Api, contract: Contract) -> None:
    schema = contract.schema("/v1/bulk/{bulk-key}/stop", "put", "200")
    declared = contract.headers("/v1/bulk/{bulk-key}/stop", "put", "200")
    key = api.sim.seed_action("Processing")
    for expected in (True, False):
        status, headers, body = await api.call("PUT", f"/v1/bulk/{key}/stop")
        assert status == 200 and body["success"] is expected
        validate(body, schema)
        validate_headers(headers, declared)
    _, _, missing = await api.call("PUT", "/v1/bulk/nope/stop")
    validate(missing, schema)
    _, _, missing = await api.call("GET", "/v1/bulk/nope")
    validate(missing, contract.component("CommonResponse"))


@pytest.mark.parametrize("status", [400, 403, 404, 405, 409, 413, 422, 429])
async def test_4xx_bodies_are_common_responses(
    api: Api, contract: Contract, status: int
) -> None:
    api.sim.inject(Fault(status))
    code, headers, body = await api.call("GET", "/v1/bulk/x")
    assert code == status
    schema = contract.schema("/v1/bulk/{bulk-key}", "get", "4XX")
    validate_headers(headers, contract.headers("/v1/bulk/{bulk-key}", "get", "4XX"))
    if status == 403:
        # Zuora's SDK maps a 403 to {code: integer, message}: still a valid 4XX.
        validate(body, schema, strict=False)
        assert isinstance(body["code"], int)
    else:
        validate(body, schema)
        assert body["success"] is False and body["reasons"]


async def test_401_body(api: Api, contract: Contract) -> None:
    status, _, body = await api.call("GET", "/v1/bulk/x", auth=False)
    assert status == 401 and body == {"message": "Authentication error"}
    validate(body, contract.schema("/v1/bulk/{bulk-key}", "get", "4XX"), strict=False)


@pytest.mark.parametrize(
    ("path", "method", "request_path"),
    [
        ("/v1/bulk", "post", "/v1/bulk"),
        ("/v1/bulk/{bulk-key}", "get", "/v1/bulk/x"),
        ("/v1/bulk/{bulk-key}/stop", "put", "/v1/bulk/x/stop"),
        ("/v1/files/{file-id}", "get", "/v1/files/x"),
    ],
)
async def test_500_bodies_are_error_responses(
    api: Api, contract: Contract, path: str, method: str, request_path: str
) -> None:
    api.sim.inject(Fault(500))
    status, headers, body = await api.call(method.upper(), request_path)
    assert status == 500
    validate(body, contract.schema(path, method, "500"))
    validate_headers(headers, contract.headers(path, method, "500"))


async def test_simulator_errors_outside_faults_match_too(
    api: Api, contract: Contract
) -> None:
    schema = contract.schema("/v1/bulk/{bulk-key}", "get", "4XX")
    for method, path in (("GET", "/v1/nowhere"), ("DELETE", "/v1/bulk/x")):
        validate((await api.call(method, path))[2], schema)
    body = (await api.submit(b"x" * (9 * 1024 * 1024)))[2]
    validate(body, contract.schema("/v1/bulk", "post", "4XX"))
