"""Drive load with wrk (a separate process) and read its one-line JSON summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"


def require_wrk() -> str:
    """The wrk binary, or exit saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("make bench needs wrk: sudo apt-get install -y wrk (Debian/Ubuntu)")
    return path


def run_wrk(
    url: str,
    seconds: int,
    *,
    connections: int = 16,
    threads: int = 1,
    script: str = "report.lua",
    env: dict | None = None,
) -> dict:
    """Run wrk for `seconds` against `url`; requests/s, latency percentiles (ms) and errors."""
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", str(WRK_DIR / script), url]
    environment = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR), **(env or {})}
    finished = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=seconds + 60
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed: {finished.stderr or finished.stdout}")
    raw = json.loads(lines[-1])
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }
