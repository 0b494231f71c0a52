"""Drive load with wrk (a separate process) and read its one-line JSON summary."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

from bench.cpu import ServerCpu

WRK_DIR = Path(__file__).resolve().parent / "wrk"
CORES = len(os.sched_getaffinity(0))


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
    threads: int = 2,
    script: str = "report.lua",
    env: dict | None = None,
    server: ServerCpu | None = None,
) -> dict:
    """Run wrk for `seconds` against `url`; requests/s, latency percentiles (ms) and errors.

    Also wrk's own CPU (the kernel's accounting of reaped children: only wrk ends during the
    run) as a share of the machine, and, given `server`, the server side's CPU per request
    (gunicorn's tree and PostgreSQL's).
    """
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", str(WRK_DIR / script), url]
    environment = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR), **(env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if server is not None:
        server.start()
    finished = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=seconds + 60
    )
    cpu = server.stop() if server is not None else {}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed: {finished.stderr or finished.stdout}")
    raw = json.loads(lines[-1])
    wall = raw["duration_us"] / 1e6
    result = {
        "rps": raw["requests"] / wall,
        "requests": raw["requests"],
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["wrk_cpu_share"] = wrk_cpu / (wall * CORES)
    # Near 1.0 a wrk thread never waits for the server: then wrk, not the server, sets the pace.
    result["wrk_thread_busy"] = wrk_cpu / (wall * threads)
    if cpu and raw["requests"]:
        result["app_cpu_us"] = cpu["app_cpu_s"] / raw["requests"] * 1e6
        result["db_cpu_us"] = cpu["db_cpu_s"] / raw["requests"] * 1e6
        result["server_cpu_us"] = result["app_cpu_us"] + result["db_cpu_us"]
    return result
