"""Soak run: the chaos test at full size, for as long as you care to watch.

Each round seeds mass actions in every state (2,000 by default), submits
files, mixes in unknown and invalid bulk keys, and stops them all with one
``stop_many`` call against the simulator on 127.0.0.1, which fails at random
(10% HTTP 500, 5% 429 with Retry-After, 3% HTML 502 pages, 2% connections
dropped after the request was applied, 1% answers slower than the attempt
timeout) while every token is expired every few seconds. After each round
the outcomes are checked against the simulator's own state, the attempts
against the retry budget and the request log, and no task may be left
running; from the second round on, tracemalloc measures what each round
leaves behind.

Run from a checkout, in the project's virtualenv::

    python scripts/soak.py                      # 3 rounds of 2,000 actions
    python scripts/soak.py --rounds 5 --actions 500 --max-seconds 300

It talks to nothing but the simulator it starts on loopback, stops after
``--rounds`` rounds or ``--max-seconds``, whichever comes first, and exits
with 1 if any check failed (or time ran out), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.chaos import ChaosConfig, run_rounds  # noqa: E402

#: What rounds after the second may add to what the second left behind.
MEMORY_GROWTH_BOUND = 2 * 1024 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--submits", type=int, default=20, help="files per round")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--max-connections", type=int, default=20)
    parser.add_argument(
        "--token-every", type=float, default=2.0, help="seconds between expiries"
    )
    parser.add_argument(
        "--attempt-timeout",
        type=float,
        default=1.0,
        help="seconds; slow answers take 1.5 times this",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-seconds", type=float, default=900.0, help="stop and fail after this"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.actions <= 20_000 or not 1 <= args.rounds <= 20:
        parser.error("--actions is 1 to 20000 and --rounds 1 to 20")
    return args


async def soak(args: argparse.Namespace) -> int:
    config = dataclasses.replace(
        ChaosConfig(),
        actions=args.actions,
        rounds=args.rounds,
        submits=args.submits,
        unknown_keys=max(1, args.actions // 100),
        concurrency=args.concurrency,
        max_connections=args.max_connections,
        token_every=args.token_every,
        attempt_timeout=args.attempt_timeout,
        # The later retries wait up to one attempt timeout: an upload that
        # answered too slowly may run that much longer, and until it is done
        # Zuora answers its retries with 409.
        retry=dataclasses.replace(
            ChaosConfig().retry, max_backoff=max(0.3, args.attempt_timeout)
        ),
        seed=args.seed,
        # Thousands of keys wait much longer for their turn than in CI.
        wait_timeout=max(30.0, args.actions / 10),
    )
    print(
        f"soak: {config.rounds} rounds of {config.actions} actions, "
        f"{config.submits} uploads, concurrency {config.concurrency} over "
        f"{config.max_connections} connections, tokens expired every "
        f"{config.token_every:g} s, attempt timeout {config.attempt_timeout:g} s, "
        f"seed {config.seed}",
        flush=True,
    )
    started = time.monotonic()
    try:
        reports, problems = await asyncio.wait_for(run_rounds(config), args.max_seconds)
    except asyncio.TimeoutError:
        print(f"FAILED: not done within {args.max_seconds:g} s")
        return 1
    elapsed = time.monotonic() - started

    failed = bool(problems)
    for number, report in enumerate(reports, 1):
        print(f"round {number}: {report.summary()}")
        for problem in report.problems:
            print(f"  PROBLEM: {problem}")
        failed = failed or bool(report.problems)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if len(reports) >= 3:
        growth = reports[-1].memory_after - reports[1].memory_after
        print(f"memory: {growth / 1024:+.0f} KiB from round 2 to round {len(reports)}")
        if growth >= MEMORY_GROWTH_BOUND:
            print(f"PROBLEM: memory grew by more than {MEMORY_GROWTH_BOUND} bytes")
            failed = True
    attempts = sum(report.attempts for report in reports)
    calls = sum(report.first_attempts for report in reports)
    print(
        f"{'FAILED' if failed else 'OK'}: {len(reports)} rounds in {elapsed:.1f} s, "
        f"{attempts} attempts for {calls} calls"
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(soak(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
