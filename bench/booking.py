"""The booking rush: many people at once for fewer places than they are, then the database's count.

The people are seeded straight into the bench database (no password: the rush is about booking,
sign-ins have their own phase) and their tokens are issued by the app's own code, in this
process, under the servers' secret. Each person tries once.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import date

import psycopg2

from bench.cpu import ServerCpu

PEOPLE = 3000
SESSIONS = 10
CAPACITY = 100  # 1,000 places for 3,000 people
THREADS = 16


@contextmanager
def _cursor(database_url: str):
    parts = urllib.parse.urlsplit(database_url.replace("postgresql+psycopg2", "postgresql"))
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username,
        password=parts.password, dbname=parts.path.lstrip("/"),
    )  # fmt: skip
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def prepare(database_url: str, env: dict) -> tuple[list[int], list[int], list[str]]:
    """PEOPLE new adults without registrations, each with an access token (issued by the app's
    own code under the servers' secrets), and SESSIONS fresh sessions of CAPACITY."""
    people, bearer_tokens = _people_with_tokens(database_url, env)
    with _cursor(database_url) as cursor:
        cursor.execute(
            "INSERT INTO vaccination_sessions (center_id, vaccine_id, date, city_key, capacity,"
            " booked, status, created_at)"
            " SELECT c.id, (SELECT min(id) FROM vaccines),"
            " (SELECT max(date) + 1 FROM vaccination_sessions), c.city_key, %s, 0, 'open', now()"
            " FROM (SELECT id, city_key FROM centers WHERE active ORDER BY id LIMIT %s) AS c"
            " RETURNING id",
            (CAPACITY, SESSIONS),
        )
        sessions = [row[0] for row in cursor.fetchall()]
    return people, sessions, bearer_tokens


def _people_with_tokens(database_url: str, env: dict) -> tuple[list[int], list[str]]:
    """Insert the people through the app's column types, so their personal fields are encrypted
    and indexed under the servers' data key (plain SQL would store them in clear, which the
    servers cannot read), and give each a token whose session row the servers look up."""
    from sqlalchemy import func, insert, select, text

    from backend import clock, create_app
    from backend.auth.tokens import issue_access_token
    from backend.extensions import db
    from backend.models import User
    from backend.privacy.fields import index_of
    from config import normalise_database_url

    keys = ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "BLIND_INDEX_KEY")
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
            **{key: env[key] for key in keys if env.get(key)},
        }
    )
    with app.app_context():
        first = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) + 1
        now = clock.utcnow()
        rows = []
        for n in range(first, first + PEOPLE):
            email, nid = f"rush{n}@example.org", f"8{n:012d}"
            rows.append(
                {
                    "id": n,
                    "name": f"Rush Citizen {n}",
                    "email": email,
                    "email_index": index_of("email", email),
                    "password_hash": "!bench",
                    "role_id": 1,
                    "nid": nid,
                    "nid_index": index_of("nid", nid),
                    "verified": True,
                    "token_version": 0,
                    "date_of_birth": date(1980, 1, 1),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        db.session.execute(insert(User), rows)
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")
        )
        db.session.commit()
        people = [row["id"] for row in rows]
        return people, [issue_access_token(person, 0)[0] for person in people]


def rush(base_url: str, bearer_tokens: list[str], sessions: list[int], server: ServerCpu) -> dict:
    """Every token books once, THREADS at a time, sessions taken in turn."""
    work: queue.Queue = queue.Queue()
    for index, token in enumerate(bearer_tokens):
        work.put((token, sessions[index % len(sessions)]))
    answers: list[tuple[int, str | None, float]] = []
    lock = threading.Lock()
    host = urllib.parse.urlsplit(base_url)

    def person() -> None:
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while True:
            try:
                token, session_id = work.get_nowait()
            except queue.Empty:
                break
            body = json.dumps({"session_id": session_id})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            started = time.perf_counter()
            connection.request("POST", "/appointments", body, headers)
            response = connection.getresponse()
            answer = json.loads(response.read() or b"{}")
            elapsed = time.perf_counter() - started
            with lock:
                answers.append((response.status, answer.get("reason"), elapsed))
        connection.close()

    client_cpu = time.process_time()
    server.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=person) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = server.stop()
    client_cpu = time.process_time() - client_cpu
    latencies = sorted(elapsed for _, _, elapsed in answers)
    return {
        "attempts": len(answers),
        "rps": len(answers) / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "booked": sum(1 for status, _, _ in answers if status == 201),
        "full": sum(1 for status, reason, _ in answers if status == 409 and reason == "full"),
        "other": sum(1 for status, reason, _ in answers if status != 201 and reason != "full"),
        "non2xx": sum(1 for status, reason, _ in answers if status >= 500),
        "requests": len(answers),
        "app_cpu_us": cpu["app_cpu_s"] / len(answers) * 1e6,
        "db_cpu_us": cpu["db_cpu_s"] / len(answers) * 1e6,
        "server_cpu_us": (cpu["app_cpu_s"] + cpu["db_cpu_s"]) / len(answers) * 1e6,
        "client_cpu_share": client_cpu / (wall * len(os.sched_getaffinity(0))),
    }


def audit(database_url: str, sessions: list[int]) -> dict:
    """What the database holds for the rush's sessions: places, bookings, any overbooking."""
    with _cursor(database_url) as cursor:
        cursor.execute(
            "SELECT sum(s.capacity), sum(s.booked), count(*) FILTER (WHERE s.booked > s.capacity),"
            " (SELECT count(*) FROM appointments AS a"
            "  WHERE a.session_id = ANY(%s) AND a.status = 'booked')"
            " FROM vaccination_sessions AS s WHERE s.id = ANY(%s)",
            (sessions, sessions),
        )
        capacity, booked, overbooked_sessions, rows = cursor.fetchone()
    return {
        "capacity": capacity,
        "booked_count": booked,
        "overbooked_sessions": overbooked_sessions,
        "appointment_rows": rows,
    }
