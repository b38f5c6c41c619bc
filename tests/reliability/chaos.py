"""A chaos run: ``stop_many`` over mass actions in every state while the
simulator fails at random, and the checks that must hold afterwards.

Used by the CI test (``test_chaos.py``, a small run) and by the soak script
(``scripts/soak.py``, 2,000 actions and more rounds). Each round:

1. seeds mass actions in mixed states, submits a few files, and mixes in bulk
   keys Zuora does not know and strings that are no bulk key at all;
2. injects the random faults of ``chaos_faults`` and expires every token
   every ``token_every`` seconds;
3. stops them all with one ``stop_many`` call, waiting for final states;
4. checks the outcomes against the simulator's own state, the attempts against
   the retry budget and the request log, and that no task is left running.

``run_rounds`` runs several rounds with one client, measuring with tracemalloc
how much memory each round leaves behind.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import math
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind

from aiozuora import (
    MassActionStatus,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    StopOutcome,
    ZuoraClient,
)
from aiozuora.simulator import Fault, ZuoraSimulator

from ..conftest import runs_sdk_code

STOPPED = MassActionStatus.STOPPED
COMPLETED = MassActionStatus.COMPLETED
FAILED = MassActionStatus.FAILED

#: Strings that are no bulk key: refused before any request.
INVALID_KEYS = ("", "../../v1/files", "a/b", "key with spaces", "%2e%2e")


@dataclass(frozen=True)
class ChaosConfig:
    """How big and how hostile one run is."""

    actions: int = 120
    submits: int = 6
    unknown_keys: int = 5
    rounds: int = 3
    #: Keys handled at once; most of them sleep between polls, so this is
    #: larger than the connections that carry their requests.
    concurrency: int = 50
    max_connections: int = 10
    #: The client's per-attempt timeout; slow answers take ``slow_factor`` times it.
    attempt_timeout: float = 0.3
    slow_factor: float = 1.5
    #: Every token is expired 0.4 s into a round and this often after. A call
    #: takes its token before it queues for a connection; when the token is
    #: expired again during that wait, right after a refresh, the fresh token's
    #: refusal ends the call (the guard against a refresh loop). Real tokens live
    #: an hour; here the expiries stay seconds apart so that only a call stuck
    #: in the queue that long could meet one.
    token_every: float = 5.0
    seed: int = 7
    #: Generous enough that running out of attempts is practically impossible
    #: at these fault rates (0.21 ** 10 per call), so that every error left is
    #: a refusal. The later retries wait up to 0.3 s, long enough for an upload
    #: that answered too slowly to finish: until then Zuora answers its retry
    #: with 409 (the Idempotency-Key is in use).
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(
            max_attempts=10,
            initial_backoff=0.01,
            max_backoff=0.3,
            deadline=30.0,
            max_retry_after=0.02,
        )
    )
    poll: PollPolicy = field(
        default_factory=lambda: PollPolicy(
            initial_interval=0.03, multiplier=1.5, max_interval=0.15, jitter=0.1
        )
    )
    wait_timeout: float = 30.0


def chaos_faults(config: ChaosConfig) -> list[Fault]:
    """The random faults of a chaos run, by share of the /v1 requests."""
    return [
        Fault(500, probability=0.10, times=None),
        Fault(429, retry_after=1, probability=0.05, times=None),
        Fault(502, body="html", probability=0.03, times=None),
        # The request is applied (a stop lands, an upload starts an action),
        # then the connection closes without an answer.
        Fault(status=None, drop="after", probability=0.02, times=None),
        Fault(
            status=None,
            delay=config.attempt_timeout * config.slow_factor,
            probability=0.01,
            times=None,
        ),
    ]


@dataclass
class RoundReport:
    """What one round did; ``problems`` lists every broken rule."""

    keys: int
    seconds: float
    outcomes: Counter[str]
    attempts: int
    first_attempts: int
    retries: Counter[str]
    requests: int
    faults_hit: Counter[str]
    token_expiries: int
    token_requests: int
    memory_after: int
    problems: list[str]

    def summary(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults_hit.items()))
        retries = ", ".join(f"{k} {v}" for k, v in self.retries.most_common())
        return (
            f"{self.keys} keys in {self.seconds:.2f} s; outcomes: {outcomes}\n"
            f"  attempts {self.attempts} for {self.first_attempts} calls "
            f"({self.attempts / max(self.first_attempts, 1):.2f} per call); "
            f"simulator saw {self.requests} /v1 requests\n"
            f"  faults hit: {faults}\n"
            f"  retries: {retries}\n"
            f"  tokens expired {self.token_expiries} times, fetched "
            f"{self.token_requests} times; traced memory after the round "
            f"{self.memory_after / 1e6:.2f} MB"
        )


def csv_file(index: int, rows: int = 20) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["Object Key", "Object Type", "Deferred Revenue Accounting Code"])
    for row in range(rows):
        writer.writerow([f"F{index:03d}R{row:04d}", "Invoice Item", "4000"])
    return text.getvalue().encode()


#: The mixed states of a round, in proportion, and what each must end as.
KINDS: list[tuple[str, dict[str, Any], frozenset[MassActionStatus]]] = [
    # Stays Pending until stopped.
    (
        "pending",
        {"status": "Pending", "pending_seconds": math.inf},
        frozenset({STOPPED}),
    ),
    # Starts processing at some point of the run.
    (
        "starting",
        {"status": "Pending", "pending_seconds": 0.3, "records_per_second": 1.0},
        frozenset({STOPPED}),
    ),
    (
        "processing",
        {"status": "Processing", "records_per_second": 1.0},
        frozenset({STOPPED}),
    ),
    # Finishes within milliseconds: the stop may land first, or not.
    (
        "racing",
        {"status": "Processing", "processed": 99, "records_per_second": 200.0},
        frozenset({STOPPED, COMPLETED}),
    ),
    ("stopping", {"status": "Stopping", "stopping_seconds": 0.2}, frozenset({STOPPED})),
    ("stopped", {"status": "Stopped"}, frozenset({STOPPED})),
    ("completed", {"status": "Completed"}, frozenset({COMPLETED})),
    ("failed", {"status": "Failed"}, frozenset({FAILED})),
]


class Round:
    """One round against one simulator, with one client."""

    def __init__(
        self,
        sim: ZuoraSimulator,
        client: ZuoraClient,
        config: ChaosConfig,
        spans: InMemorySpanExporter,
        number: int,
    ) -> None:
        self.sim = sim
        self.client = client
        self.config = config
        self.spans = spans
        self.number = number
        self.problems: list[str] = []
        self.expected: dict[str, frozenset[MassActionStatus]] = {}

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)

    def seed(self) -> list[str]:
        keys = []
        for index in range(self.config.actions):
            _name, options, finals = KINDS[index % len(KINDS)]
            key = self.sim.seed_action(total=100, **options)
            self.expected[key] = finals
            keys.append(key)
        return keys

    async def submit(self) -> list[str]:
        """Upload files under faults; a lost answer must not start a second
        action. The first POSTs are dropped after the upload was applied."""
        before = set(self.sim.bulk_keys)
        posts_before = self._posts()
        self.sim.inject(Fault(status=None, drop="after", method="POST", times=2))
        results = await asyncio.gather(
            *(
                self.client.mass_actions.submit(csv_file(i), "UpdateAccountingCode")
                for i in range(self.config.submits)
            ),
            return_exceptions=True,
        )
        submitted = [key for key in results if isinstance(key, str)]
        for error in results:
            if isinstance(error, BaseException):
                self.problem(f"a submit failed: {error!r}")
        created = [key for key in self.sim.bulk_keys if key not in before]
        # Never more actions than uploads; each key returned is one of them.
        if (
            len(created) > len(results)
            or len(set(submitted)) != len(submitted)
            or not set(submitted) <= set(created)
        ):
            self.problem(
                f"{len(results)} submits made {len(created)} mass actions and "
                f"returned {sorted(submitted)}"
            )
        if self._posts() - posts_before <= self.config.submits:
            self.problem("no submit was retried: the idempotency check proved nothing")
        for key in submitted:
            # Pending for a second after upload, then processing: stoppable.
            self.expected[key] = frozenset({STOPPED, COMPLETED})
        return submitted

    def _posts(self) -> int:
        return sum(
            r.method == "POST" and r.path == "/v1/bulk" for r in self.sim.requests
        )

    async def run(self) -> RoundReport:
        sim, client, config = self.sim, self.client, self.config
        tasks_before = set(asyncio.all_tasks())
        stats_before = (client.stats.attempts, Counter(client.stats.retries))
        tokens_before = client.stats.token_requests
        started = time.monotonic()

        for fault in chaos_faults(config):
            sim.inject(fault)
        expiries = 0

        async def expire_tokens() -> None:
            nonlocal expiries
            await asyncio.sleep(min(0.4, config.token_every / 2))
            while True:
                sim.expire_tokens()
                expiries += 1
                await asyncio.sleep(config.token_every)

        expirer = asyncio.ensure_future(expire_tokens())
        try:
            known = self.seed()
            known += await self.submit()
            unknown = [f"{self.number:04d}{i:028x}" for i in range(config.unknown_keys)]
            # Every key given once, a few twice, unknown and invalid ones mixed in.
            keys = known + known[:: max(1, len(known) // 10)] + unknown
            keys += list(INVALID_KEYS)
            seen: Counter[int] = Counter()

            def count(outcome: StopOutcome) -> None:
                seen[id(outcome)] += 1

            outcomes = await client.mass_actions.stop_many(
                keys,
                concurrency=config.concurrency,
                timeout=config.wait_timeout,
                poll=config.poll,
                on_outcome=count,
            )
        finally:
            expirer.cancel()
            await asyncio.gather(expirer, return_exceptions=True)
            sim.clear_faults()
        seconds = time.monotonic() - started

        self.check_outcomes(keys, outcomes, set(unknown), sum(seen.values()))
        self.check_tasks(tasks_before)
        attempts = client.stats.attempts - stats_before[0]
        retries = client.stats.retries - stats_before[1]
        first_attempts, v1 = self.check_budget(attempts, retries, expiries)
        return RoundReport(
            keys=len(keys),
            seconds=seconds,
            outcomes=Counter(_describe(o) for o in outcomes),
            attempts=attempts,
            first_attempts=first_attempts,
            retries=retries,
            requests=len(v1),
            faults_hit=Counter(_fault_name(r.fault) for r in v1 if r.fault is not None),
            token_expiries=expiries,
            token_requests=client.stats.token_requests - tokens_before,
            memory_after=0,
            problems=self.problems,
        )

    def check_outcomes(
        self,
        keys: list[str],
        outcomes: list[StopOutcome],
        unknown: set[str],
        notified: int,
    ) -> None:
        if len(outcomes) != len(keys) or notified != len(keys):
            self.problem(
                f"{len(keys)} keys got {len(outcomes)} outcomes and "
                f"{notified} on_outcome calls"
            )
        for key, outcome in zip(keys, outcomes, strict=False):
            if outcome.bulk_key != key:
                self.problem(
                    f"outcome for {outcome.bulk_key!r} in the place of {key!r}"
                )
                continue
            if key in INVALID_KEYS:
                if not isinstance(outcome.error, ValueError):
                    self.problem(f"invalid key {key!r}: {outcome.error!r}")
                continue
            if key in unknown:
                if not isinstance(outcome.error, NotFoundError):
                    self.problem(f"unknown key {key}: {outcome.error!r}")
                if key in self.sim.bulk_keys:
                    self.problem(f"unknown key {key} exists in the simulator")
                continue
            truth = self.sim.action(key)
            if outcome.error is not None or outcome.action is None:
                self.problem(f"{key} ({truth.status}) got an error: {outcome.error!r}")
                continue
            final = outcome.action.status
            if final != truth.status:
                self.problem(f"{key}: outcome says {final}, simulator {truth.status}")
            if final not in self.expected[key]:
                wanted = "/".join(sorted(s.value for s in self.expected[key]))
                self.problem(f"{key}: ended {final}, expected {wanted}")
            # The outcome says which: Stopped exactly when a stop was accepted.
            if (final is STOPPED) != truth.stop_accepted:
                self.problem(
                    f"{key}: {final} but the simulator's stop_accepted is "
                    f"{truth.stop_accepted}"
                )
            if outcome.action.processed_count not in (None, truth.processed):
                self.problem(
                    f"{key}: {outcome.action.processed_count} processed, "
                    f"simulator {truth.processed}"
                )
        # Nothing that is no bulk key went anywhere near a URL.
        for record in self.sim.requests:
            if ".." in record.path or "%" in record.path or " " in record.path:
                self.problem(f"request for {record.path!r}")

    def check_tasks(self, before: set[asyncio.Task[Any]]) -> None:
        """Every task the SDK started for this round has ended.

        The simulator's own tasks (a handler still sleeping on a slow answer
        whose client gave up) may run on; ``run_rounds`` checks that nothing
        at all is left once both are closed.
        """
        current = asyncio.current_task()
        left = [
            task
            for task in asyncio.all_tasks() - before
            if task is not current and not task.done() and _client_task(task)
        ]
        if left:
            self.problem(f"{len(left)} tasks still running: {left[:3]}")

    def check_budget(
        self, attempts: int, retries: Counter[str], expiries: int
    ) -> tuple[int, list[Any]]:
        """Attempts against spans, the retry policy and the simulator's log."""
        policy = self.config.retry
        v1 = [r for r in self.sim.requests if r.path.startswith("/v1/")]
        dropped = sum(r.status is None for r in v1)
        # Every attempt reached the simulator; aiohttp resends a GET or PUT
        # once by itself when a kept-alive connection closes unanswered.
        if not attempts <= len(v1) <= attempts + dropped:
            self.problem(
                f"{attempts} attempts, but the simulator saw {len(v1)} /v1 requests "
                f"({dropped} dropped)"
            )
        spans = [
            span
            for span in self.spans.get_finished_spans()
            if span.kind is SpanKind.CLIENT
        ]
        client_spans = [span for span in spans if "/oauth/token" not in span.name]
        # A failed token fetch fails every call waiting for it, each of which
        # then retries without a /v1 attempt of its own.
        token_failures = sum(
            "/oauth/token" in span.name and not span.status.is_ok for span in spans
        )
        if len(client_spans) != attempts:
            self.problem(f"{attempts} attempts but {len(client_spans)} CLIENT spans")
        resends = [
            count if isinstance(count, int) else 0
            for span in client_spans
            for count in [(span.attributes or {}).get("http.request.resend_count")]
        ]
        first = resends.count(0)
        # max_attempts tries, plus one after each token refresh, and a call
        # refreshes only after a 401 that an expiry caused.
        if resends and max(resends) + 1 > policy.max_attempts + expiries:
            self.problem(f"a call made {max(resends) + 1} attempts")
        total = sum(retries.values())
        slack = token_failures * self.config.concurrency
        if not attempts - first <= total <= attempts - first + slack:
            self.problem(
                f"stats count {total} retries, spans {attempts - first} resends "
                f"({token_failures} token fetches failed)"
            )
        # A retry follows a failure only: never a success.
        failed_answers = sum(
            r.fault is not None or r.status is None or r.status >= 400 for r in v1
        )
        if attempts - first > failed_answers + slack:
            self.problem(
                f"{attempts - first} resends for {failed_answers} failed answers "
                f"({token_failures} token fetches failed)"
            )
        return first, v1


def _client_task(task: asyncio.Task[Any]) -> bool:
    """A task running the SDK's code or aiohttp's client code."""
    if runs_sdk_code(task):
        return True
    code = getattr(task.get_coro(), "cr_code", None)
    filename = Path(code.co_filename).name if code is not None else ""
    module = Path(code.co_filename).parent.name if code is not None else ""
    return module == "aiohttp" and (
        filename.startswith("client") or filename == "connector.py"
    )


def _describe(outcome: StopOutcome) -> str:
    if outcome.error is not None:
        return type(outcome.error).__name__
    assert outcome.action is not None
    return str(outcome.action.status)


def _fault_name(fault: Fault) -> str:
    if fault.drop is not None:
        return f"dropped {fault.drop}"
    if fault.status is None:
        return "slow"
    return f"HTTP {fault.status}" + (" html" if fault.body == "html" else "")


#: Where the simulator's side of the conversation allocates (its own code and
#: aiohttp's server), and tracemalloc's own snapshots. Left out, so that what
#: is measured is the client's.
NOT_CLIENT_FILES = (
    "*/aiozuora/simulator/*",
    "*/aiohttp/web_*",
    "*/aiohttp/_http_parser*",
    tracemalloc.__file__,
)


def client_memory() -> int:
    """Bytes traced by tracemalloc, but for those the simulator holds."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, pattern) for pattern in NOT_CLIENT_FILES]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


def forget(sim: ZuoraSimulator) -> None:
    """Drop the simulator's actions and request log between rounds, so that
    what the simulator keeps does not count as the client's memory."""
    tenant = sim._tenant
    tenant.actions.clear()
    tenant.files.clear()
    tenant._idempotency.clear()
    sim.requests.clear()


@contextmanager
def loop_problems() -> Iterator[list[str]]:
    """Collect ResourceWarnings and the event loop's error reports (an unclosed
    session or connector, a task destroyed while pending, an exception nobody
    retrieved)."""
    found: list[str] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: found.append(context["message"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield found
        finally:
            gc.collect()
            loop.set_exception_handler(previous)
    found.extend(
        str(w.message)
        for w in caught
        if issubclass(w.category, ResourceWarning)
        or "nclosed" in str(w.message)
        or "pending" in str(w.message)
    )


async def run_rounds(config: ChaosConfig) -> tuple[list[RoundReport], list[str]]:
    """Run ``config.rounds`` rounds with one client on one simulator.

    Returns the reports and the problems found around them: tasks or
    warnings left after closing, memory that grew from round to round.
    """
    problems: list[str] = []
    reports: list[RoundReport] = []
    tasks_before = set(asyncio.all_tasks())
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing_memory = False
    try:
        with loop_problems() as loop_found:
            async with (
                ZuoraSimulator(
                    seed=config.seed,
                    pending_seconds=1.0,
                    records_per_second=200.0,
                    stopping_seconds=0.05,
                    concurrency_limit=max(40, config.max_connections + 10),
                ) as sim,
                ZuoraClient(
                    sim.base_url,
                    client_id=sim.client_id,
                    client_secret=sim.client_secret,
                    retry=config.retry,
                    timeout=config.attempt_timeout,
                    max_connections=config.max_connections,
                    tracer_provider=provider,
                ) as client,
            ):
                for number in range(1, config.rounds + 1):
                    report = await Round(sim, client, config, exporter, number).run()
                    exporter.clear()
                    forget(sim)
                    gc.collect()
                    if tracemalloc.is_tracing():
                        report.memory_after = client_memory()
                    elif number == 1:
                        # The first round warms up caches, pools and the
                        # token; from here on, whatever a round allocates
                        # and keeps is counted.
                        tracemalloc.start()
                        tracing_memory = True
                    reports.append(report)
            provider.shutdown()
            gc.collect()
        problems.extend(f"event loop or warning: {text}" for text in loop_found)
    finally:
        if tracing_memory:
            tracemalloc.stop()

    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() - tasks_before if t is not current]
    if left:
        problems.append(f"{len(left)} tasks left after closing: {left[:3]}")
    return reports, problems
