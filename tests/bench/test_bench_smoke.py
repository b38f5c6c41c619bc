"""The benchmark script still runs: every scenario at a trivially small size.

This checks that ``bench/run.py`` works, not how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def test_every_scenario_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    output = tmp_path / "figures.json"

    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--scale=0.002",
            "--time-scale=0.02",
            "--repeat=1",
            "--poll-samples=2",
            "--without-zuora-sdk",
            f"--output={output}",
        ],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    for title in ("1. Per-request", "2. Stopping", "3. ", "4. Polling", "5. Through"):
        assert f"### {title}" in done.stdout
    figures = json.loads(output.read_text())
    overhead = figures["overhead"]["runs"]
    assert all(run["failures"] == 0 for runs in overhead.values() for run in runs)
    assert (
        figures["zuora_sdk"]["results"]["aiozuora stop_many(concurrency=40)"][
            "failures"
        ]
        == 0
    )
    assert figures["scale"]["result"]["final"] == {"Stopped": 20}
    assert all(row["lags"] for row in figures["polling"]["rows"])
    assert all(r["failures"] == 0 for r in figures["throughput"].values())
