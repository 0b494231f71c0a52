"""Soak test: a bounded mixed workload on a multi-worker gunicorn, then a database audit.

Each virtual citizen registers, signs in, reads the profile, registers for a dose, gets it
approved by a health officer and downloads the certificate. Afterwards the database must hold
exactly the rows the successful responses promised, and no response may have been a 5xx.

    make soak                      # 60 s, 8 clients, 4 workers
    SOAK_SECONDS=600 SOAK_CLIENTS=16 make soak

Traffic goes to 127.0.0.1 only. The database (SOAK_DATABASE_URL, default a fresh
`vaccination_soak` on the local PostgreSQL) is dropped and created anew.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import TESTING_DATA_ENCRYPTION_KEY, generate_signing_key  # noqa: E402
from tests.server import gunicorn, request  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "8"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
DATABASE_URL = os.environ.get(
    "SOAK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_soak"
)
PASSWORD = "soak test passphrase"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = psycopg2.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{parsed.database}"')
    admin.close()


class Tally:
    """What the workload was told, per step: statuses, latencies, ids promised."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.promised: dict[str, set] = defaultdict(set)

    def call(self, step: str, method: str, url: str, body: dict | None = None, **kwargs):
        started = time.perf_counter()
        status, body = request(method, url, body, **kwargs)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.statuses[step][status] += 1
            self.latency[step].append(elapsed)
        return status, body

    def promise(self, kind: str, value) -> None:
        with self.lock:
            self.promised[kind].add(value)


def sign_in(tally: Tally, base: str, email: str) -> dict | None:
    form = f"username={email.replace('@', '%40')}&password={PASSWORD.replace(' ', '+')}"
    status, body = tally.call(
        "sign in", "POST", f"{base}/auth/token", data=form.encode(), headers=FORM
    )
    return {"Authorization": f"Bearer {body['access_token']}"} if status == 200 else None


def journey(tally: Tally, base: str, n: int, center_id: int, officer: dict) -> None:
    email = f"soak{n}@example.org"
    body = {
        "name": f"Soak {n}",
        "email": email,
        "password": PASSWORD,
        "nid": f"{5_000_000_000 + n}",
        "phone_number": f"+88017{n % 10**8:08d}",
    }
    status, user = tally.call("register", "POST", f"{base}/auth/register", body)
    if status != 201:
        return
    tally.promise("users", user["id"])
    headers = sign_in(tally, base, email)
    if headers is None:
        return
    tally.call("profile", "GET", f"{base}/users/me", headers=headers)
    status, vaccination = tally.call(
        "register dose",
        "POST",
        f"{base}/vaccinations",
        {"center_id": center_id, "vaccine_id": 1},
        headers=headers,
    )
    if status != 201:
        return
    tally.promise("vaccinations", vaccination["id"])
    status, _ = tally.call(
        "approve", "POST", f"{base}/vaccinations/{vaccination['id']}/approve", {}, headers=officer
    )
    if status != 200:
        return
    tally.promise("approved", vaccination["id"])
    tally.call(
        "certificate",
        "GET",
        f"{base}/vaccinations/{vaccination['id']}/certificate",
        headers={**headers, "Accept": "application/json"},
    )


def audit_database(url: str, tally: Tally) -> list[str]:
    """Compare the database with what the responses promised; return the problems."""
    parsed = make_url(url)
    connection = psycopg2.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname=parsed.database
    )
    problems = []
    with connection.cursor() as cursor:
        checks = {
            "users": "SELECT id FROM users WHERE role_id = 1",
            "vaccinations": "SELECT id FROM vaccinations",
            "approved": "SELECT id FROM vaccinations WHERE status = 'approved'",
        }
        for kind, sql in checks.items():
            cursor.execute(sql)
            stored = {row[0] for row in cursor.fetchall()}
            if stored != tally.promised[kind]:
                problems.append(
                    f"{kind}: {len(tally.promised[kind])} promised, {len(stored)} stored, "
                    f"{len(tally.promised[kind] - stored)} lost, "
                    f"{len(stored - tally.promised[kind])} unexpected"
                )
        cursor.execute("SELECT count(*), count(DISTINCT vaccination_id) FROM certificates")
        certificates, distinct = cursor.fetchone()
        if certificates != len(tally.promised["approved"]) or certificates != distinct:
            problems.append(
                f"certificates: {certificates} rows for {len(tally.promised['approved'])} approvals"
            )
    connection.close()
    return problems


def main() -> int:
    fresh_database(DATABASE_URL)
    secrets = {
        "SECRET_KEY": "soak-test-secret-key-0123456789abcdef-xyz",
        "CERT_SIGNING_KEY": generate_signing_key(),
        "AUDIT_KEY": "soak-test-audit-key-0123456789abcdef-xyz",
        "METRICS_TOKEN": "soak-test-metrics-token",
        "DATA_ENCRYPTION_KEY": TESTING_DATA_ENCRYPTION_KEY,
        # The soak's officer (`users create-admin`) has no authenticator: without this the
        # staff two-factor gate, on by default in production, would refuse its calls.
        "REQUIRE_STAFF_MFA": "false",
    }
    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": DATABASE_URL, **secrets}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi:app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [
            *flask,
            "users",
            "create-admin",
            "--email",
            "officer@soak.example.org",
            "--name",
            "Soak Officer",
            "--password",
            PASSWORD,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    tally = Tally()
    with gunicorn(DATABASE_URL, workers=WORKERS, **secrets) as base:
        officer = sign_in(tally, base, "officer@soak.example.org")
        status, center = tally.call(
            "setup",
            "POST",
            f"{base}/centers",
            {"name": "Soak Center", "city": "Dhaka", "address": "1 Test Road"},
            headers=officer,
        )
        assert status == 201, center
        numbers = itertools.count(1)
        deadline = time.monotonic() + SECONDS

        def client():
            while time.monotonic() < deadline:
                journey(tally, base, next(numbers), center["id"], officer)

        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

    total = sum(sum(c.values()) for c in tally.statuses.values())
    print(
        f"soak: {SECONDS:.0f} s, {CLIENTS} clients, {WORKERS} workers: {total} requests "
        f"in {elapsed:.1f} s ({total / elapsed:.1f} req/s)"
    )
    print(f"{'step':<14}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for step, latencies in tally.latency.items():
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"{step:<14}{len(ordered):>9}{statistics.median(ordered) * 1000:>9.1f}"
            f"{p99 * 1000:>9.1f}  {dict(tally.statuses[step])}"
        )
    server_errors = sum(n for c in tally.statuses.values() for s, n in c.items() if s >= 500)
    problems = audit_database(DATABASE_URL, tally)
    print(f"5xx responses: {server_errors}")
    print("database matches the responses" if not problems else "\n".join(problems))
    return 1 if server_errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
