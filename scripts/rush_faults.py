"""Faults the rush injects into the running stack, each timed from injection until it has healed.

A fault's window starts when it is injected and ends SETTLE seconds after the stack is whole
again (the part answers and HAProxy counts every instance up): after a PgBouncer restart each
worker's pool still holds dead connections, and the first request on each gets a 503 (as
README, DATABASE_POOL_PRE_PING, says) — that is part of the fault, not a bug outside it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request
from collections.abc import Callable

import stack
from stack_files import read_env_file

SETTLE = float(os.environ.get("RUSH_FAULT_SETTLE", "5"))


def wait(check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"rush: the stack did not heal within {timeout:.0f} s")
        time.sleep(0.2)


def balancer_sees_every_instance() -> bool:
    """HAProxy's own view (its stats CSV): every app server UP."""
    url = f"http://127.0.0.1:{stack.STATS_PORT}/;csv"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            rows = [line.split(",") for line in answer.read().decode().splitlines()]
    except OSError:
        return False
    servers = [row for row in rows if row[0] == "app" and row[1].startswith("app")]
    return bool(servers) and all(row[17] == "UP" for row in servers)


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", stack.REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def kill_instance() -> None:
    """SIGKILL one gunicorn (master and workers, mid-request), then start it again."""
    port = stack.APP_PORTS[0]
    pid = stack.running(f"gunicorn-{port}")
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)
        wait(lambda: stack.running(f"gunicorn-{port}") is None, timeout=10)
    stack.start_instance(read_env_file(stack.DIR / "env"), port)
    wait(lambda: stack.http_status(f"http://127.0.0.1:{port}/health/ready")[0] == 200)
    wait(balancer_sees_every_instance)


def restart_redis() -> None:
    stack.stop("redis")
    stack.start_redis(stack.program("redis-server"))
    wait(redis_answers)


def restart_pgbouncer() -> None:
    pooled = stack.make_url(read_env_file(stack.DIR / "env")["DATABASE_URL"])
    stack.stop("pgbouncer")
    stack.start_pgbouncer(stack.program("pgbouncer"))
    wait(lambda: stack.database_answers(pooled))


FAULTS = {
    f"app instance {stack.APP_PORTS[0]} killed (SIGKILL) and restarted": kill_instance,
    "Redis restarted": restart_redis,
    "PgBouncer restarted": restart_pgbouncer,
}


def inject(what: str, now: Callable[[], float]) -> dict:
    """Run one fault; its window in seconds since the rush started (`now`)."""
    started = now()
    FAULTS[what]()
    healed = now()
    time.sleep(SETTLE)
    return {"what": what, "started": round(started, 2), "healed": round(healed, 2),
            "ended": round(now(), 2)}  # fmt: skip
