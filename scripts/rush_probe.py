"""What the server side spent and waited on during the rush: CPU from /proc, locks from PostgreSQL.

CPU is read per component, so the figures do not include the other programs of a shared machine:
the gunicorn instances (each master with its reaped and live workers, bench/cpu.py), the
PostgreSQL backends serving the stack's database (found in pg_stat_activity; PgBouncer keeps its
server connections, so their counters cover the run), PgBouncer, HAProxy, Redis and the rush's
own process (Locust). The argon2 share of the app's CPU is the measured cost of one argon2id
operation at the app's parameters times the two each journey makes (sign-up, sign-in).

Every second the backends of the stack's database are sampled: what each active one waits on
(wait_event_type/wait_event), and every lock not granted, by lock type, relation and mode.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter

import psycopg2
import stack

from backend.auth.passwords import HASHER
from bench.cpu import TICK, _stat, tree_seconds

ARGON2_PER_JOURNEY = 2  # POST /auth/register hashes, POST /auth/token verifies
ACTIVITY = """
    SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
    WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""
WAITING_LOCKS = """
    SELECT l.locktype, coalesce(l.relation::regclass::text, l.locktype), l.mode,
           left(regexp_replace(a.query, '\\s+', ' ', 'g'), 90)
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE NOT l.granted AND a.datname = %s
"""


def own_seconds(pid: int | None) -> float:
    fields = _stat(pid) if pid else None
    return (int(fields[11]) + int(fields[12])) / TICK if fields else 0.0


def argon2_cpu_ms(rounds: int = 5) -> float:
    """CPU milliseconds of one argon2id operation (hash or verify) at the app's parameters."""
    encoded = HASHER.hash("rush hour passphrase")
    started = time.process_time()
    for _ in range(rounds):
        HASHER.verify(encoded, "rush hour passphrase")
    return (time.process_time() - started) / rounds * 1000


class Probe:
    def __init__(self, database_url: str, database: str):
        self.connection = psycopg2.connect(database_url, connect_timeout=5)
        self.connection.autocommit = True
        self.database = database
        self.backends: dict[int, float] = {}  # pid -> last CPU seconds seen
        self.waits: Counter = Counter()  # "Lock:tuple" (or "CPU") -> samples of active backends
        self.locks: Counter = Counter()  # (locktype, relation, mode, query) -> samples
        self.samples = 0

    def sample(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(ACTIVITY, (self.database,))
            for pid, state, wait in cursor.fetchall():
                self.backends[pid] = own_seconds(pid) or self.backends.get(pid, 0.0)
                if state == "active":
                    self.waits[wait] += 1
            cursor.execute(WAITING_LOCKS, (self.database,))
            for row in cursor.fetchall():
                self.locks[row] += 1
        self.samples += 1

    def cpu(self) -> dict[str, float]:
        """Cumulative CPU seconds per component (subtract two of these for a phase)."""
        self.backends.update({pid: own_seconds(pid) or cpu for pid, cpu in self.backends.items()})
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "app": sum(tree_seconds(stack.running(f"gunicorn-{p}") or 0) for p in stack.APP_PORTS),
            "postgres": sum(self.backends.values()),
            "pgbouncer": own_seconds(stack.running("pgbouncer")),
            "haproxy": own_seconds(stack.running("haproxy")),
            "redis": own_seconds(stack.running("redis")),
            "load_generator": usage.ru_utime + usage.ru_stime,
        }

    def report(self, spent: dict[str, float], journeys: int, seconds: float) -> dict:
        """CPU per journey over a phase (`spent`: the difference of two `cpu()` readings)."""
        argon2_ms = argon2_cpu_ms()
        per_journey = {k: round(v / max(journeys, 1) * 1000, 1) for k, v in spent.items()}
        if journeys:
            hashing = min(per_journey["app"], ARGON2_PER_JOURNEY * argon2_ms)
            per_journey["app_hashing"] = round(hashing, 1)
            per_journey["app_other"] = round(per_journey["app"] - hashing, 1)
        server = ("app", "postgres", "pgbouncer", "haproxy", "redis")
        server_ms = sum(per_journey.get(k, 0) for k in server)
        return {
            "seconds": round(seconds, 1),
            "journeys": journeys,
            "cpu_s": {k: round(v, 2) for k, v in spent.items()},
            "cpu_ms_per_journey": per_journey,
            "server_cpu_ms_per_journey": round(server_ms, 1),
            "journeys_per_s_per_server_core": round(1000 / server_ms, 2) if server_ms else None,
            "argon2_cpu_ms": round(argon2_ms, 1),
            "cores": os.cpu_count(),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        }

    def waited(self) -> dict:
        """The sampled waits: what active backends waited on, and which locks were not granted."""
        return {
            "samples": self.samples,
            "active_backends_by_wait": dict(self.waits.most_common(12)),
            "locks_not_granted": [
                {"locktype": t, "relation": r, "mode": m, "query": q, "samples": n}
                for (t, r, m, q), n in self.locks.most_common(12)
            ],
        }
