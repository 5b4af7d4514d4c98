"""The benchmark scripts run end to end at a tiny size and end with their JSON line (not their timing: that is
what the scripts themselves are for)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = {
    "ingest.py": ["--events", "3000", "--known", "300", "--backends", "sqlite"],
    "dashboard.py": ["--database", "sqlite:///dashboard.db", "--build", "60", "--requests", "1"],
    "decide.py": ["--customers", "300", "--requests", "40", "--events", "5"],
    "respond.py": ["--orders", "8"],
    "state_read.py": ["--customers", "200", "--reads", "20"],
    "recognize.py": ["--customers", "2000", "--sections", "synthetic_100k"],
    "ope.py": ["--rows", "2000", "--bootstrap", "60"],
    "voice.py": [
        "--folds",
        "2",
        "--sentiment-items",
        "300",
        "--train",
        "800",
        "--test",
        "300",
        "--topic-items",
        "200",
        "--embed-items",
        "0",
        "--guardian-topics",
        "5",
        "--guardian-items",
        "600",
        "--replays",
        "1",
        "--replay-days",
        "40",
        "--throughput-items",
        "200",
    ],
    "request.py": ["--sections", "latency", "--customers", "200", "--requests", "20"],
    "faults.py": [
        "--events",
        "3000",
        "--kills",
        "2",
        "--modes",
        "stream",
        "--upload-size",
        "100",
        "--pg-events",
        "600",
        "--pg-restarts",
        "1",
    ],
    "scale.py": ["--seconds", "3", "--stores", "sqlite", "--workers", "0,1", "--clients", "2", "--sample", "1"],
    "simulate.py": ["--customers", "60", "--days", "30", "--shares", "0.3", "--tolerances", "low", "--seeds", "1"],
}


@pytest.mark.parametrize("script", sorted(TINY))
def test_the_benchmark_prints_its_json(script: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *TINY[script]],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict) and result
    assert result.get("ok", True) is True, result  # faults.py: nothing lost, nothing doubled, every invariant holds
