"""An async service that stops one mass action and awaits its final state.

Run as it is, it starts a local Zuora simulator with one running mass action.
To stop a real one, give the bulk key and the connection in the environment
(ZUORA_BASE_URL is a URL or an environment name such as us-sandbox):

    ZUORA_BASE_URL=us-sandbox ZUORA_CLIENT_ID=... ZUORA_CLIENT_SECRET=... \
    python examples/stop_one.py 8a90a0b1c2d3e4f5a6b7c8d9e0f1a2b3
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiozuora import (
    Environment,
    MassAction,
    MassActionNotStoppableError,
    PollPolicy,
    ZuoraClient,
)
from aiozuora.simulator import ZuoraSimulator


async def stop_mass_action(
    client: ZuoraClient, bulk_key: str, poll: PollPolicy | None = None
) -> MassAction:
    """What a request handler of the service does: stop, then await the outcome.

    The stop is idempotent, so a retried request of the service's own caller is
    harmless. An action that finished before the stop arrived is reported as
    it is rather than as a failure.
    """
    try:
        return await client.mass_actions.stop_and_wait(bulk_key, timeout=300, poll=poll)
    except MassActionNotStoppableError as error:
        return error.action


def report(action: MassAction) -> None:
    print(
        f"mass action {action.bulk_key} is {action.status}: "
        f"{action.success_count} records succeeded, {action.error_count} failed, "
        f"{action.processed_count} of {action.total_count} processed"
    )


def base_url(value: str) -> Environment | str:
    """A URL as it is; a name such as us-sandbox as the Environment it names."""
    return value if "://" in value else Environment.from_name(value)


async def main(argv: list[str]) -> None:
    if os.environ.get("ZUORA_BASE_URL"):
        if len(argv) != 1:
            print("usage: python examples/stop_one.py BULK_KEY", file=sys.stderr)
            raise SystemExit(2)
        async with ZuoraClient(
            base_url(os.environ["ZUORA_BASE_URL"]),
            client_id=os.environ.get("ZUORA_CLIENT_ID"),
            client_secret=os.environ.get("ZUORA_CLIENT_SECRET"),
        ) as client:
            report(await stop_mass_action(client, argv[0]))
        return

    async with ZuoraSimulator(records_per_second=500, stopping_seconds=0.3) as sim:
        bulk_key = sim.seed_action("Processing", total=10_000, processed=2_500)
        async with ZuoraClient(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        ) as client:
            # The simulator is quick, so poll more often than Zuora needs.
            action = await stop_mass_action(
                client, bulk_key, poll=PollPolicy(initial_interval=0.2)
            )
        report(action)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
