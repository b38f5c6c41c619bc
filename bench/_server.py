"""The benchmark's server: aiozuora's simulator in a process of its own.

Run by ``run.py`` so that the server's CPU time is not charged to the client
being measured. It prints one JSON line with its address and credentials, then
answers JSON commands, one per line on stdin, with one JSON line on stdout:

- ``{"cmd": "seed", "count": N, "status": "Processing", ...}`` seeds N mass
  actions (other keys are passed to ``seed_action``) and answers their keys;
- ``{"cmd": "stats"}`` answers request counts by method and by HTTP status,
  and this process's CPU time;
- ``{"cmd": "log", "keys": [...]}`` answers, per key, the server times of the
  stop and get requests for it (the clock is ``time.monotonic``, which every
  process on the machine shares);
- ``{"cmd": "statuses", "keys": [...]}`` answers how many of them are in each
  status;
- ``{"cmd": "headers", "key": K}`` answers the header names of the requests
  for that key.

End of input shuts the server down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

from aiozuora.simulator import ZuoraSimulator

_SEED_OPTIONS = (
    "total",
    "processed",
    "action_type",
    "records_per_second",
    "stopping_seconds",
    "pending_seconds",
    "failure_rate",
)


def _key_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "v1" and parts[2] == "bulk":
        return parts[3]
    return None


class Control:
    """Answers the runner's commands about the simulator it owns."""

    def __init__(self, sim: ZuoraSimulator) -> None:
        self.sim = sim

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command.pop("cmd")
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            return {"error": f"unknown command {name!r}"}
        result: dict[str, Any] = handler(**command)
        return result

    def cmd_seed(self, count: int, status: str, **options: Any) -> dict[str, Any]:
        unknown = set(options) - set(_SEED_OPTIONS)
        if unknown:
            return {"error": f"unknown seed options {sorted(unknown)}"}
        keys = [self.sim.seed_action(status, **options) for _ in range(count)]
        return {"keys": keys}

    def cmd_stats(self) -> dict[str, Any]:
        methods: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        for request in self.sim.requests:
            methods[request.method] += 1
            statuses[str(request.status)] += 1
        return {
            "requests": sum(methods.values()),
            "methods": dict(methods),
            "statuses": dict(statuses),
            "cpu": time.process_time(),
        }

    def cmd_log(self, keys: list[str]) -> dict[str, Any]:
        wanted = set(keys)
        log: dict[str, dict[str, list[float]]] = {
            key: {"stop": [], "get": []} for key in keys
        }
        for request in self.sim.requests:
            key = _key_of(request.path)
            if key not in wanted or key is None:
                continue
            kind = "stop" if request.path.endswith("/stop") else "get"
            log[key][kind].append(request.time)
        return {"log": log}

    def cmd_statuses(self, keys: list[str]) -> dict[str, Any]:
        counts = Counter(str(self.sim.action(key).status) for key in keys)
        return {"statuses": dict(counts)}

    def cmd_headers(self, key: str) -> dict[str, Any]:
        for request in self.sim.requests:
            if _key_of(request.path) == key:
                return {"headers": sorted(name.lower() for name in request.headers)}
        return {"headers": None}


async def _serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )

    async with ZuoraSimulator(
        latency=args.latency,
        concurrency_limit=args.concurrency_limit,
        stopping_seconds=args.stopping_seconds,
    ) as sim:
        control = Control(sim)
        print(
            json.dumps(
                {
                    "base_url": sim.base_url,
                    "client_id": sim.client_id,
                    "client_secret": sim.client_secret,
                }
            ),
            flush=True,
        )
        while line := await reader.readline():
            try:
                answer = control.handle(json.loads(line))
            except Exception as error:
                answer = {"error": f"{type(error).__name__}: {error}"}
            print(json.dumps(answer), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--concurrency-limit", type=int, default=100_000)
    parser.add_argument("--stopping-seconds", type=float, default=0.5)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
