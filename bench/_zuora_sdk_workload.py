"""The official ``zuora-sdk`` package stopping mass actions, for comparison.

``python bench/_zuora_sdk_workload.py MODE`` (MODE ``serial`` or ``threads``)
reads its parameters as JSON on stdin and prints one JSON line of results, like
``_workloads.py``. It imports only the standard library and ``zuora_sdk``, so
it runs under any interpreter that has ``zuora-sdk`` installed.

zuora-sdk takes its base URL from ``Configuration(host=...)`` and fetches its
OAuth token from ``{host}/oauth/token``, so pointing it at the local simulator
needs nothing more than that ``host``.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import emit, measure


def run(mode: str, params: dict[str, Any]) -> dict[str, Any]:
    # zuora-sdk is installed for the benchmark only, not beside aiozuora.
    from zuora_sdk import Configuration  # type: ignore[import-not-found,unused-ignore]
    from zuora_sdk.zuora_client import (  # type: ignore[import-not-found,unused-ignore]
        ZuoraClient,
    )

    threads = params["threads"] if mode == "threads" else 1
    config = Configuration(host=params["base_url"])
    # Its default pool keeps cpu_count() * 5 connections; a pool of more threads
    # than that would open and discard connections, so it is given one each.
    config.connection_pool_maxsize = max(threads, config.connection_pool_maxsize)
    client = ZuoraClient(params["client_id"], params["client_secret"], None, config)
    client.initialize()
    api = client.mass_updater_api()

    def stop(key: str) -> bool:
        try:
            return bool(api.stop_mass_updater(key).success)
        except Exception:
            return False

    stop(params["warmup_key"])
    with measure() as result:
        if mode == "serial":
            answers = [stop(key) for key in params["keys"]]
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                answers = list(pool.map(stop, params["keys"]))
    result.requests = len(params["keys"])
    result.extra["failures"] = answers.count(False)
    return result.to_json()


def main() -> None:
    emit(run(sys.argv[1], json.load(sys.stdin)))
    # The client's token-refresh thread sleeps ten minutes at a time, and
    # stopping it waits five seconds for it; the figures are out, so leave.
    os._exit(0)


if __name__ == "__main__":
    main()
