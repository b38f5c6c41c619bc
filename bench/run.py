"""Benchmarks of aiozuora against a local simulator.

    python bench/run.py                          # every scenario, full size
    python bench/run.py -s overhead -s scale     # some scenarios
    python bench/run.py --scale 0.1              # a tenth of the requests

Every scenario starts aiozuora's simulator in a process of its own on
127.0.0.1 and runs each client side in a fresh process, so that a side's CPU
time and peak RSS are its own. Both sides of a comparison run in the same
invocation against the same server; the ratio is what to read, since absolute
times on a shared machine mean little. Prints markdown tables and writes the
figures as JSON to ``bench/results/``. ``bench/RESULTS.md`` says what each
scenario does and holds the latest figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
ZUORA_VENV_PYTHON = BENCH_DIR / ".zuora-venv" / "bin" / "python"

# Zuora's limits for one tenant (zuora-api.md, rate and concurrency limits).
TENANT_CONCURRENCY = 40
TENANT_PER_MINUTE = 50_000

# Seeded actions stay Processing for the whole run: 100 records at one record
# every hundred seconds.
PROCESSING = {"status": "Processing", "total": 100, "records_per_second": 0.01}

Json = dict[str, Any]


# --- processes ----------------------------------------------------------------


class Server:
    """The simulator in its own process, driven by JSON lines (see _server.py)."""

    def __init__(self, **options: float) -> None:
        command = [sys.executable, str(BENCH_DIR / "_server.py")]
        for name, value in options.items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.info: Json = self._read()

    def _read(self) -> Json:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the benchmark server exited with {self.process.wait()}"
            )
        answer: Json = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the benchmark server says: {answer['error']}")
        return answer

    def call(self, cmd: str, **arguments: Any) -> Json:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def seed(self, count: int, **options: Any) -> list[str]:
        keys: list[str] = self.call("seed", count=count, **options)["keys"]
        return keys

    def params(self, **extra: Any) -> Json:
        """What a workload needs to reach this server, plus ``extra``."""
        return {**self.info, **extra}

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def server(**options: float) -> Iterator[Server]:
    started = Server(**options)
    try:
        yield started
    finally:
        started.close()


def run_workload(
    name: str, params: Json, *, script: str = "_workloads.py", python: str = ""
) -> Json:
    """Run one workload in a fresh process and return what it measured."""
    done = subprocess.run(
        [python or sys.executable, str(BENCH_DIR / script), name],
        input=json.dumps(params),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"workload {name} failed with exit code {done.returncode}:\n"
            f"{done.stderr.strip()}"
        )
    result: Json = json.loads(lines[-1])
    return result


def find_zuora_python(requested: str | None) -> str | None:
    """An interpreter that can import zuora_sdk, or None."""
    candidates = [requested] if requested else [str(ZUORA_VENV_PYTHON), sys.executable]
    for candidate in candidates:
        if not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import zuora_sdk; print(zuora_sdk.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return candidate
    return None


# --- reporting ----------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join("---" for _ in self.columns) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += self.notes
        return "\n".join(lines)


@dataclass
class Goal:
    scenario: str
    goal: str
    measured: str
    met: bool

    def row(self) -> list[str]:
        return [self.scenario, self.goal, self.measured, "yes" if self.met else "NO"]


@dataclass
class Report:
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    data: Json = field(default_factory=dict)

    def markdown(self) -> str:
        parts = [table.markdown() for table in self.tables]
        if self.goals:
            summary = Table("Goals", ["Scenario", "Goal", "Measured", "Met"])
            summary.rows = [goal.row() for goal in self.goals]
            parts.append(summary.markdown())
        return "\n\n".join(parts)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def scaled(count: int, scale: float, least: int = 1) -> int:
    return max(least, round(count * scale))


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# --- 1. per-request overhead ----------------------------------------------------


def scenario_overhead(args: argparse.Namespace, report: Report) -> None:
    count = scaled(5_000, args.scale)
    warmup = scaled(200, args.scale, least=10)
    concurrency = 50
    sides = {
        "raw aiohttp loop": ("raw_stop", False),
        "aiozuora, no tracer": ("sdk_stop", False),
        "aiozuora, OTel SDK recording": ("sdk_stop", True),
    }
    runs: dict[str, list[Json]] = {side: [] for side in sides}

    with server() as srv:
        for repeat in range(args.repeat):
            for side, (workload, tracing) in sides.items():
                progress(f"overhead: {side}, run {repeat + 1}/{args.repeat}")
                keys = srv.seed(count + warmup, **PROCESSING)
                before = srv.call("stats")
                result = run_workload(
                    workload,
                    srv.params(
                        keys=keys[warmup:],
                        warmup_keys=keys[:warmup],
                        concurrency=concurrency,
                        tracing=tracing,
                    ),
                )
                after = srv.call("stats")
                result["server_requests"] = after["requests"] - before["requests"]
                result["first_key"] = keys[warmup]
                runs[side].append(result)
        headers = {
            side: srv.call("headers", key=results[0]["first_key"])["headers"]
            for side, results in runs.items()
        }

    def median(side: str, metric: Callable[[Json], float]) -> float:
        return statistics.median(metric(run) for run in runs[side])

    def cpu_per_request(run: Json) -> float:
        return float(run["cpu"]) / int(run["requests"])

    def per_second(run: Json) -> float:
        return int(run["requests"]) / float(run["wall"])

    raw = median("raw aiohttp loop", cpu_per_request)
    table = Table(
        f"1. Per-request overhead: {count:,} stops at concurrency {concurrency}",
        [
            "Client",
            "CPU µs/request",
            "x raw",
            "x raw, run by run",
            "requests/s",
            "peak RSS MB",
            "failures",
            "spans exported",
        ],
    )
    ratios: dict[str, float] = {}
    for side in sides:
        cpu = median(side, cpu_per_request)
        ratios[side] = cpu / raw
        each = [
            cpu_per_request(run) / cpu_per_request(base)
            for run, base in zip(runs[side], runs["raw aiohttp loop"], strict=True)
        ]
        table.add(
            side,
            us(cpu),
            num(ratios[side]),
            f"{min(each):.2f} to {max(each):.2f}",
            num(median(side, per_second), 0),
            num(max(run["peak_rss_mb"] for run in runs[side]), 0),
            sum(run["failures"] for run in runs[side]),
            "—" if side.startswith("raw") else sum(r["spans"] for r in runs[side]),
        )
    table.notes.append(
        f"Median of {args.repeat} runs per client, run in turn ('run by run' "
        f"compares each run with the raw run just before it). CPU is the client "
        f"process's user + system time (all threads, the span exporter's too); "
        f"the server runs in another process."
    )
    same = headers["raw aiohttp loop"] == headers["aiozuora, no tracer"]
    table.notes.append(
        "Request headers of the two sides: "
        + ("the same names." if same else f"DIFFER: {json.dumps(headers)}")
    )
    report.tables.append(table)
    report.data["overhead"] = {"runs": runs, "ratios": ratios, "headers": headers}
    for side, limit in (
        ("aiozuora, no tracer", 1.25),
        ("aiozuora, OTel SDK recording", 1.6),
    ):
        report.goals.append(
            Goal(
                "1",
                f"{side}: CPU/request ≤ {limit}x raw",
                f"{ratios[side]:.2f}x",
                ratios[side] <= limit,
            )
        )


# --- 2. against zuora-sdk -------------------------------------------------------


def scenario_zuora_sdk(args: argparse.Namespace, report: Report) -> None:
    count = scaled(1_000, args.scale)
    latency = 0.020
    threads = 40
    zuora_python = (
        None if args.without_zuora_sdk else find_zuora_python(args.zuora_python)
    )
    results: dict[str, Json] = {}

    with server(latency=latency) as srv:
        progress("zuora-sdk: aiozuora stop_many")
        keys = srv.seed(count + 1, **PROCESSING)
        results["aiozuora stop_many(concurrency=40)"] = run_workload(
            "sdk_stop_many",
            srv.params(keys=keys[1:], warmup_key=keys[0], concurrency=threads),
        )
        progress("zuora-sdk: aiozuora stop, 40 at a time")
        keys = srv.seed(count + 1, **PROCESSING)
        results["aiozuora stop() x N, 40 at a time"] = run_workload(
            "sdk_stop",
            srv.params(keys=keys[1:], warmup_keys=keys[:1], concurrency=threads),
        )
        if zuora_python is not None:
            for mode, side in (
                ("threads", f"zuora-sdk, {threads} threads"),
                ("serial", "zuora-sdk, one by one"),
            ):
                progress(f"zuora-sdk: {side}")
                keys = srv.seed(count + 1, **PROCESSING)
                results[side] = run_workload(
                    mode,
                    srv.params(keys=keys[1:], warmup_key=keys[0], threads=threads),
                    script="_zuora_sdk_workload.py",
                    python=zuora_python,
                )

    ours = results["aiozuora stop_many(concurrency=40)"]
    table = Table(
        f"2. Stopping {count:,} actions with {latency * 1000:.0f} ms server latency",
        [
            "Client",
            "wall s",
            "CPU s",
            "peak RSS MB",
            "wall x aiozuora",
            "CPU x aiozuora",
            "failures",
        ],
    )
    for side, result in results.items():
        table.add(
            side,
            num(result["wall"]),
            num(result["cpu"]),
            num(result["peak_rss_mb"], 0),
            num(result["wall"] / ours["wall"], 1),
            num(result["cpu"] / ours["cpu"], 1),
            result["failures"],
        )
    table.notes.append(
        "`stop_many(keys, concurrency=40, wait=False)` and the `stop()` row "
        "each send one request per key, like zuora-sdk's `stop_mass_updater`. "
        "Each client runs in its own process (peak RSS includes its imports); "
        "the token fetch and first connection are done before the clock starts."
    )
    if zuora_python is None:
        table.notes.append(
            "zuora-sdk's side did not run (not installed, or --without-zuora-sdk): "
            "see bench/RESULTS.md for how to install it."
        )
    report.tables.append(table)
    report.data["zuora_sdk"] = {"results": results, "python": zuora_python}
    if zuora_python is None:
        return
    serial = results["zuora-sdk, one by one"]
    pool = results[f"zuora-sdk, {threads} threads"]
    for side, label in (
        ("aiozuora stop_many(concurrency=40)", "stop_many"),
        ("aiozuora stop() x N, 40 at a time", "stop() fan-out"),
    ):
        ours = results[side]
        report.goals += [
            Goal(
                "2",
                f"{label}: ≥ 20x faster than zuora-sdk one by one",
                f"{serial['wall'] / ours['wall']:.1f}x",
                serial["wall"] / ours["wall"] >= 20,
            ),
            Goal(
                "2",
                f"{label}: faster than zuora-sdk with {threads} threads",
                f"{pool['wall'] / ours['wall']:.2f}x as fast",
                ours["wall"] < pool["wall"],
            ),
            Goal(
                "2",
                f"{label}: ≤ half the CPU of zuora-sdk with {threads} threads",
                f"{ours['cpu'] / pool['cpu']:.2f}x its CPU",
                ours["cpu"] <= 0.5 * pool["cpu"],
            ),
        ]


# --- 3. scale -------------------------------------------------------------------


def scenario_scale(args: argparse.Namespace, report: Report) -> None:
    count = scaled(10_000, args.scale)
    stopping = 2.0 * args.time_scale
    max_connections = 100

    with server() as srv:
        progress(f"scale: {count:,} concurrent stop_and_wait")
        keys = srv.seed(count, stopping_seconds=stopping, **PROCESSING)
        before = srv.call("stats")
        result = run_workload(
            "sdk_stop_and_wait", srv.params(keys=keys, max_connections=max_connections)
        )
        after = srv.call("stats")
        on_server = srv.call("statuses", keys=keys)["statuses"]

    methods = {
        method: after["methods"].get(method, 0) - before["methods"].get(method, 0)
        for method in ("PUT", "GET", "POST")
    }
    stopped = result["final"].get("Stopped", 0)
    table = Table(
        f"3. {count:,} concurrent stop_and_wait, one process, {stopping:g} s to stop",
        [
            "Stopped",
            "wall s",
            "CPU s",
            "peak RSS MB",
            "RSS before MB",
            "PUT/wait",
            "GET/wait",
            "token requests",
        ],
    )
    table.add(
        f"{stopped:,} / {count:,}",
        num(result["wall"]),
        num(result["cpu"]),
        num(result["peak_rss_mb"], 0),
        num(result["rss_before_mb"], 0),
        num(methods["PUT"] / count),
        num(methods["GET"] / count),
        methods["POST"],
    )
    table.notes.append(
        f"`asyncio.gather` of {count:,} `stop_and_wait` calls with the default "
        f"PollPolicy, `max_connections={max_connections}`. Final states as the "
        f"caller saw them: {json.dumps(result['final'])}; on the server: "
        f"{json.dumps(on_server)}."
    )
    report.tables.append(table)
    report.data["scale"] = {"result": result, "methods": methods, "server": on_server}
    report.goals += [
        Goal("3", "every action reaches Stopped", f"{stopped:,}", stopped == count),
        Goal(
            "3",
            "peak RSS < 250 MB",
            f"{result['peak_rss_mb']:.0f} MB",
            result["peak_rss_mb"] < 250,
        ),
    ]


# --- 4. polling cost and lag ----------------------------------------------------


def poll_schedule(policy: Json, seconds: float) -> tuple[int, float]:
    """Polls, without jitter, until one comes at or after ``seconds``, and the
    interval that led to that last poll."""
    elapsed, interval, polls = 0.0, policy["initial_interval"], 0
    while True:
        elapsed += interval
        polls += 1
        if elapsed >= seconds:
            return polls, interval
        interval = min(interval * policy["multiplier"], policy["max_interval"])


def scenario_polling(args: argparse.Namespace, report: Report) -> None:
    durations = [d * args.time_scale for d in args.poll_durations]
    samples = max(1, args.poll_samples)
    groups: dict[float, list[str]] = {}

    with server() as srv:
        for duration in durations:
            groups[duration] = srv.seed(
                samples, stopping_seconds=duration, **PROCESSING
            )
        every_key = [key for keys in groups.values() for key in keys]
        progress(f"polling: {len(every_key)} stop_and_wait, up to {max(durations):g} s")
        result = run_workload(
            "sdk_poll", srv.params(keys=every_key, time_scale=args.time_scale)
        )
        log = srv.call("log", keys=every_key)["log"]

    policy = result["policy"]
    cap = policy["max_interval"] * (1 + policy["jitter"])
    table = Table(
        "4. Polling cost and lag, default PollPolicy"
        + (f" scaled by {args.time_scale:g}" if args.time_scale != 1 else ""),
        [
            "time to stop s",
            "polls (median)",
            "polls without jitter",
            "lag s (median)",
            "lag s (max)",
            "interval before the last poll s (max)",
            "lag / that interval (max)",
            "final",
        ],
    )
    rows: list[Json] = []
    for duration, keys in groups.items():
        polls: list[int] = []
        lags: list[float] = []
        gaps: list[float] = []
        shares: list[float] = []
        for key in keys:
            stop_at = min(log[key]["stop"])
            gets = sorted(log[key]["get"])
            lag = result["learnt"][key] - (stop_at + duration)
            # The poll that saw the final state came one interval after the
            # poll (or the stop) before it; the lag cannot exceed that gap.
            gap = gets[-1] - (gets[-2] if len(gets) > 1 else stop_at)
            polls.append(len(gets))
            lags.append(lag)
            gaps.append(gap)
            shares.append(max(lag, 0.0) / gap)
        expected, _ = poll_schedule(policy, duration)
        finals = sorted({result["final"][key] for key in keys})
        table.add(
            f"{duration:g}",
            num(statistics.median(polls), 1),
            expected,
            num(statistics.median(lags)),
            num(max(lags)),
            num(max(gaps)),
            num(max(shares)),
            ", ".join(finals),
        )
        rows.append(
            {
                "seconds": duration,
                "polls": polls,
                "lags": lags,
                "gaps": gaps,
                "expected_polls": expected,
            }
        )
    table.notes.append(
        f"{samples} actions per row, all waited on at once. Policy: "
        f"{json.dumps(policy)}. Lag runs from the moment the action became "
        f"Stopped on the server (server time of the stop + time to stop) to the "
        f"moment `stop_and_wait` returned; 'polls' counts the GET requests the "
        f"server saw for the action; the interval is the server-side gap between "
        f"the poll that saw Stopped and the poll (or stop) before it."
    )
    report.tables.append(table)
    report.data["polling"] = {"rows": rows, "policy": policy}
    worst = max(max(row["lags"]) for row in rows)
    widest = max(max(row["gaps"]) for row in rows)
    lag_ok = all(
        lag <= gap + 0.05
        for row in rows
        for lag, gap in zip(row["lags"], row["gaps"], strict=True)
    )
    report.goals.append(
        Goal(
            "4",
            "lag ≤ one poll interval, intervals capped "
            f"({policy['max_interval']:g} s ± jitter)",
            f"max lag {worst:.2f} s; widest interval {widest:.2f} s",
            lag_ok and widest <= cap + 0.05,
        )
    )
    growth_ok = all(
        abs(statistics.median(row["polls"]) - row["expected_polls"]) <= 1
        for row in rows
    )
    log_polls = ", ".join(
        f"{statistics.median(row['polls']):g} at {row['seconds']:g} s" for row in rows
    )
    report.goals.append(
        Goal(
            "4",
            "polls grow with log(wait) until the cap (schedule ±1)",
            log_polls,
            growth_ok,
        )
    )


# --- 5. throughput ceiling ------------------------------------------------------


def scenario_throughput(args: argparse.Namespace, report: Report) -> None:
    count = scaled(20_000, args.scale)
    results: dict[int, Json] = {}

    with server() as srv:
        keys = srv.seed(100, status="Completed", total=10)
        for concurrency in args.throughput_concurrency:
            progress(f"throughput: {count:,} gets at concurrency {concurrency}")
            before = srv.call("stats")
            result = run_workload(
                "sdk_throughput",
                srv.params(keys=keys, count=count, concurrency=concurrency),
            )
            after = srv.call("stats")
            result["server_cpu"] = after["cpu"] - before["cpu"]
            results[concurrency] = result

    table = Table(
        f"5. Throughput: {count:,} `get` calls from one process",
        [
            "concurrency",
            "requests/s",
            "requests/min",
            "x tenant cap/min",
            "peak in flight",
            "client CPU µs/request",
            "server CPU s",
            "failures",
        ],
    )
    best = 0.0
    best_in_flight = 0
    for concurrency, result in results.items():
        rate = result["requests"] / result["wall"]
        best = max(best, rate)
        best_in_flight = max(best_in_flight, result["peak_in_flight"])
        table.add(
            concurrency,
            num(rate, 0),
            num(rate * 60, 0),
            num(rate * 60 / TENANT_PER_MINUTE),
            result["peak_in_flight"],
            us(result["cpu"] / result["requests"]),
            num(result["server_cpu"]),
            result["failures"],
        )
    table.notes.append(
        f"Zuora's tenant caps: {TENANT_CONCURRENCY} concurrent requests, "
        f"{TENANT_PER_MINUTE:,} per minute. Client and server share this "
        f"machine's {os.cpu_count()} cores."
    )
    report.tables.append(table)
    report.data["throughput"] = {str(c): r for c, r in results.items()}
    report.goals.append(
        Goal(
            "5",
            f"> {TENANT_PER_MINUTE:,} requests/min and > {TENANT_CONCURRENCY} "
            "in flight from one process",
            f"{best * 60:,.0f}/min, {best_in_flight} in flight",
            best * 60 > TENANT_PER_MINUTE and best_in_flight > TENANT_CONCURRENCY,
        )
    )


# --- main -----------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[argparse.Namespace, Report], None]] = {
    "overhead": scenario_overhead,
    "zuora-sdk": scenario_zuora_sdk,
    "scale": scenario_scale,
    "polling": scenario_polling,
    "throughput": scenario_throughput,
}


def machine() -> Json:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import aiohttp

    import aiozuora

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "aiozuora": aiozuora.__version__,
        "aiohttp": aiohttp.__version__,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmarks of aiozuora against a local simulator.",
    )
    parser.add_argument(
        "-s",
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="scenario to run; repeat for several (default: all)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the request counts of every scenario (default: 1)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply the times to stop and the poll intervals (scenarios 3, 4; "
        "default: 1)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs per client in scenario 1 (default: 5)",
    )
    parser.add_argument(
        "--poll-durations",
        type=float,
        nargs="+",
        default=[1.0, 5.0, 30.0],
        help="seconds an action takes to stop, in scenario 4 (default: 1 5 30)",
    )
    parser.add_argument(
        "--poll-samples", type=int, default=5, help="actions per duration (default: 5)"
    )
    parser.add_argument(
        "--throughput-concurrency",
        type=int,
        nargs="+",
        default=[TENANT_CONCURRENCY, 2 * TENANT_CONCURRENCY],
        help="concurrency levels of scenario 5 (default: 40 80)",
    )
    parser.add_argument(
        "--zuora-python",
        help="interpreter with zuora-sdk installed (default: "
        "bench/.zuora-venv/bin/python, else this one)",
    )
    parser.add_argument(
        "--without-zuora-sdk",
        action="store_true",
        help="run only aiozuora's side of scenario 2",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file to write (default: bench/results/<UTC time>.json)",
    )
    parser.add_argument("--no-save", action="store_true", help="write no JSON file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = args.scenario or list(SCENARIOS)
    report = Report()
    report.data["machine"] = machine()
    report.data["arguments"] = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in vars(args).items()
    }
    started = time.time()
    for name in chosen:
        SCENARIOS[name](args, report)
    report.data["seconds"] = round(time.time() - started, 1)
    report.data["goals"] = [goal.__dict__ for goal in report.goals]

    info = report.data["machine"]
    print(
        f"Machine: {info['nproc']} x {info['cpu_model']}, Python {info['python']}, "
        f"aiozuora {info['aiozuora']}, aiohttp {info['aiohttp']}\n"
    )
    print(report.markdown())
    if not args.no_save:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
        output = args.output or RESULTS_DIR / f"{stamp}.json"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report.data, indent=2) + "\n")
        print(f"\nFigures written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
