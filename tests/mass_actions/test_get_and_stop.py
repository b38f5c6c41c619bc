"""get and stop against the simulator: states, refusals, and idempotent stops."""

from __future__ import annotations

import pytest

from aiozuora import (
    InvalidRequestError,
    MassActionNotStoppableError,
    MassActionStatus,
    NotFoundError,
    ZuoraClient,
)
from aiozuora.simulator import Fault, ZuoraSimulator

UNKNOWN_KEY = "0123456789abcdef0123456789abcdef"
BAD_KEYS = ["", "a/b", "../etc", "a.b", "ab%2F", "a b", "ключ", "k" * 65]


def stops(sim: ZuoraSimulator, key: str) -> list[object]:
    return [
        r
        for r in sim.requests
        if r.method == "PUT" and r.path == f"/v1/bulk/{key}/stop"
    ]


async def test_get_returns_typed_state(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=1000, processed=250)

    action = await client.mass_actions.get(key)

    assert action.bulk_key == key
    assert action.status is MassActionStatus.PROCESSING
    assert action.total_count == 1000
    assert action.processed_count is not None and action.processed_count >= 250
    assert action.action_type == "UpdateAccountingCode"
    assert not action.is_terminal
    assert action.raw["status"] == "Processing"


async def test_get_of_a_pending_action_has_no_counts(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Pending", total=10, pending_seconds=60)

    action = await client.mass_actions.get(key)

    assert action.status is MassActionStatus.PENDING
    assert action.total_count is None
    assert action.output_url is None


@pytest.mark.parametrize("bad", BAD_KEYS)
async def test_a_bad_bulk_key_is_refused_before_any_request(
    sim: ZuoraSimulator, client: ZuoraClient, bad: str
) -> None:
    mass = client.mass_actions
    for call in (mass.get, mass.stop, mass.wait, mass.stop_and_wait):
        with pytest.raises(ValueError, match="bulk key"):
            await call(bad)
    with pytest.raises(ValueError, match="bulk key"):
        await mass.response_file(bad)

    assert sim.requests == []


async def test_stop_of_a_processing_action_lands_once(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)

    assert await client.mass_actions.stop(key) is None

    state = sim.action(key)
    assert state.stop_requests == 1
    assert state.status in (MassActionStatus.STOPPING, MassActionStatus.STOPPED)


@pytest.mark.parametrize("status", ["Stopping", "Stopped"])
async def test_stop_of_an_action_already_stopping_or_stopped_returns(
    sim: ZuoraSimulator, client: ZuoraClient, status: str
) -> None:
    key = sim.seed_action(status, total=50, processed=10, stopping_seconds=60)

    await client.mass_actions.stop(key)

    assert sim.action(key).stop_requests == 1
    # Zuora refused, and the state was looked up to decide.
    assert [r.method for r in sim.requests if key in r.path] == ["PUT", "GET"]


@pytest.mark.parametrize("status", ["Completed", "Failed"])
async def test_stop_of_a_finished_action_raises_not_stoppable(
    sim: ZuoraSimulator, client: ZuoraClient, status: str
) -> None:
    key = sim.seed_action(status, total=20)

    with pytest.raises(MassActionNotStoppableError) as caught:
        await client.mass_actions.stop(key)

    assert caught.value.action.bulk_key == key
    assert caught.value.action.status == MassActionStatus(status)
    assert isinstance(caught.value.cause, InvalidRequestError)
    assert f"already {status}" in str(caught.value)


async def test_stop_applied_but_answer_lost_then_refused_returns(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action(
        "Processing", total=2000, records_per_second=1, stopping_seconds=60
    )
    sim.inject(Fault(drop="after", method="PUT", path="/v1/bulk/*/stop"))

    await client.mass_actions.stop(key)

    state = sim.action(key)
    assert state.stop_accepted
    assert state.stop_requests == 2
    assert [r.status for r in stops(sim, key)] == [None, 200]


async def test_the_decision_comes_from_the_state_not_the_message(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    stopping = sim.seed_action("Stopping", total=10, stopping_seconds=60)
    completed = sim.seed_action("Completed", total=10)
    sim.inject(
        Fault(
            200,
            code="50000030",
            message="The mass action cannot be stopped because it is Completed.",
            path=f"/v1/bulk/{stopping}/stop",
        )
    )
    sim.inject(
        Fault(
            200,
            code="50000030",
            message="The mass action is already Stopped.",
            path=f"/v1/bulk/{completed}/stop",
        )
    )

    await client.mass_actions.stop(stopping)
    with pytest.raises(MassActionNotStoppableError):
        await client.mass_actions.stop(completed)


async def test_stop_of_an_unknown_key_is_not_found_without_a_lookup(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    with pytest.raises(NotFoundError):
        await client.mass_actions.stop(UNKNOWN_KEY)

    assert [r.method for r in sim.requests if r.path.startswith("/v1/")] == ["PUT"]


async def test_a_refusal_while_still_stoppable_is_raised(
    sim: ZuoraSimulator, client: ZuoraClient
) -> None:
    key = sim.seed_action("Processing", total=2000, records_per_second=1)
    sim.inject(Fault(200, code="50000030", message="Locked.", method="PUT"))

    with pytest.raises(InvalidRequestError) as caught:
        await client.mass_actions.stop(key)

    assert caught.value.category == 30
    assert not sim.action(key).stop_accepted
