"""A batch orchestrator: stop many mass actions, at most a few at a time.

Run as it is, it starts a local Zuora simulator with 20 mass actions, some of
which finished long ago. Against Zuora, pass the bulk keys as arguments and the
connection in ZUORA_BASE_URL (a URL or an environment name such as us-sandbox),
ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

from aiozuora import Environment, PollPolicy, StopOutcome, ZuoraClient
from aiozuora.simulator import ZuoraSimulator


async def stop_all(
    client: ZuoraClient, bulk_keys: list[str], poll: PollPolicy | None = None
) -> list[StopOutcome]:
    done = 0

    def progress(outcome: StopOutcome) -> None:
        nonlocal done
        done += 1
        if not outcome.ok:
            print(f"  {outcome.bulk_key}: not stopped: {outcome.error}")
        if done % 10 == 0 or done == len(bulk_keys):
            print(f"  {done}/{len(bulk_keys)} handled")

    # One outcome per key, in input order; one bad key never stops the rest.
    return await client.mass_actions.stop_many(
        bulk_keys,
        concurrency=10,
        wait=True,
        timeout=600,
        poll=poll,
        on_outcome=progress,
    )


def report(outcomes: list[StopOutcome]) -> None:
    statuses = Counter(
        str(outcome.action.status) for outcome in outcomes if outcome.action
    )
    failed = sum(1 for outcome in outcomes if not outcome.ok)
    print(
        f"{len(outcomes)} mass actions: "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        + f", {failed} not stopped"
    )
    # Completed (or Failed) ones had finished before the stop arrived: their
    # records were all processed, and their response files say how.


def base_url(value: str) -> Environment | str:
    """A URL as it is; a name such as us-sandbox as the Environment it names."""
    return value if "://" in value else Environment.from_name(value)


async def main(argv: list[str]) -> None:
    if os.environ.get("ZUORA_BASE_URL"):
        if not argv:
            print("usage: python examples/stop_many.py BULK_KEY...", file=sys.stderr)
            raise SystemExit(2)
        async with ZuoraClient(
            base_url(os.environ["ZUORA_BASE_URL"]),
            client_id=os.environ.get("ZUORA_CLIENT_ID"),
            client_secret=os.environ.get("ZUORA_CLIENT_SECRET"),
        ) as client:
            report(await stop_all(client, argv))
        return

    async with ZuoraSimulator(
        pending_seconds=1.0, records_per_second=200, stopping_seconds=0.1
    ) as sim:
        keys = [
            sim.seed_action(status, total=2_000 + 100 * n)
            for n, status in enumerate(
                ["Processing", "Pending", "Processing", "Completed"] * 5
            )
        ]
        keys.append("0" * 32)  # a key the tenant does not know
        async with ZuoraClient(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        ) as client:
            outcomes = await stop_all(
                client, keys, poll=PollPolicy(initial_interval=0.2)
            )
        report(outcomes)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
