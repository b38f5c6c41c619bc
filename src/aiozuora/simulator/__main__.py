"""Run the simulator as a program: ``python -m aiozuora.simulator --port 8080``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from ._app import RecordedRequest
from ._simulator import ZuoraSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aiozuora.simulator",
        description="Serve a local Zuora tenant (OAuth, Mass Updater, Files).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--client-id", help="OAuth client id (default: generated)")
    parser.add_argument("--client-secret", help="OAuth secret (default: generated)")
    parser.add_argument(
        "--pending-seconds",
        type=float,
        default=1.0,
        help="seconds an uploaded action stays Pending (default: %(default)s)",
    )
    parser.add_argument(
        "--records-per-second",
        type=float,
        default=100.0,
        help="records a Processing action gets through each second "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--stopping-seconds",
        type=float,
        default=0.5,
        help="seconds from Stopping to Stopped (default: %(default)s)",
    )
    parser.add_argument(
        "--failure-rate",
        type=float,
        default=0.05,
        help="share of records answered N, from 0 to 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds added to every /v1 answer (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the bulk keys, failing records and random faults; the "
        "same seed gives the same keys (default: %(default)s)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every request answered"
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    simulator = ZuoraSimulator(
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        pending_seconds=args.pending_seconds,
        records_per_second=args.records_per_second,
        stopping_seconds=args.stopping_seconds,
        failure_rate=args.failure_rate,
        latency=args.latency,
        seed=args.seed,
    )
    if args.verbose:
        simulator._tenant.listener = _print_request
    await simulator.start()
    print(f"Zuora simulator listening on {simulator.base_url}")
    print(f"client_id:     {simulator.client_id}")
    print(f"client_secret: {simulator.client_secret}")
    print("Press Ctrl-C to stop.", flush=True)
    await simulator.run_forever()


def _print_request(record: RecordedRequest) -> None:
    answer = "dropped" if record.status is None else str(record.status)
    print(f"{record.method} {record.path}: {answer}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
