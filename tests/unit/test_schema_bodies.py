"""Bodies generated from Zuora's published schemas parse, or are ProtocolErrors."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from aiozuora import MassAction, ProtocolError

from ..conftest import shared_file


def schema(name: str) -> dict[str, Any]:
    document = json.loads(shared_file("zuora-openapi-mass-updater.json").read_text())
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(data=st.data())
def test_get_mass_update_bodies_parse_or_are_protocol_errors(
    data: st.DataObject,
) -> None:
    body = data.draw(from_schema(schema("GETMassUpdateType")))
    try:
        action = MassAction.from_json("k1", body)
    except ProtocolError:
        return
    assert action.raw == body
