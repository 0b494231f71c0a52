"""What a sign-in costs besides its hash, in-process, for checkouts side by side.

usage: python -m bench.signin_cost [OTHER_CHECKOUT ...] [--blocks 8] [--per-block 150]
                                   [--real-hash]

Each checkout (this one first) runs in a process of its own with production settings against
one fresh PostgreSQL database (SIGNIN_COST_DATABASE_URL) holding one account, and the processes
take turns: blocks of sign-ins through the WSGI app with a prepared environ (no sockets), in
alternating order. The argon2 verification is stubbed out (a constant-time yes) unless
--real-hash. Per sign-in: the process's CPU (each block ends by draining the background jobs,
so theirs is included), wall time, the CPU of the PostgreSQL backends the process opened
(/proc/<pid>/schedstat: PostgreSQL must run on this host), statements and Python calls; with
two checkouts, the median of the paired differences. bench/notes.md, issue 13, reads it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATABASE_URL = os.environ.get(
    "SIGNIN_COST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_signin_cost"
)
EMAIL, PASSWORD = "signin.cost@example.org", "a long bench passphrase"
FIGURES = ("cpu_ms", "wall_ms", "postgres_ms", "statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("others", nargs="*", type=Path, help="other checkouts to compare")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--per-block", type=int, default=150)
    parser.add_argument("--real-hash", action="store_true")
    options = parser.parse_args()
    from bench.run import fresh_database, production_env
    from bench.server import BIN, ROOT

    env = {**production_env(), "DATABASE_URL": DATABASE_URL, "RATELIMIT_ENABLED": "false"}
    env["SIGNIN_COST_REAL_HASH"] = "1" if options.real_hash else ""
    fresh_database(DATABASE_URL)
    migrated = subprocess.run(
        [BIN / "flask", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if migrated.returncode:
        raise SystemExit(f"flask db upgrade failed:\n{migrated.stderr}")
    roots = [ROOT, *(other.resolve() for other in options.others)]
    env.pop("PYTHONPATH")  # each child imports the app of its own checkout
    children = [_start(root, env) for root in roots]  # one at a time: the first registers
    _analyze(DATABASE_URL)  # as `flask demo seed` ends: statistics with the one account
    for child in children:
        _ask(child, f"run {options.per_block}")  # warm up
    results: list[list[dict]] = [[] for _ in roots]
    for block in range(options.blocks):
        order = range(len(roots)) if block % 2 == 0 else reversed(range(len(roots)))
        for index in order:
            results[index].append(_ask(children[index], f"run {options.per_block}"))
    for root, rows, child in zip(roots, results, children, strict=True):
        print(root)
        for figure in FIGURES:
            values = [row[figure] for row in rows]
            line = " ".join(f"{value:.2f}" for value in values)
            print(f"  {figure:12} {line}   median {statistics.median(values):.2f}")
        print(f"  python calls {_ask(child, 'calls 100')['calls']:.0f}")
    if len(roots) == 2:
        for figure in FIGURES:
            differences = [b[figure] - a[figure] for a, b in zip(*results, strict=True)]
            shown = " ".join(f"{d:+.2f}" for d in differences)
            median = statistics.median(differences)
            print(f"{figure} (second - first): median {median:+.2f}   {shown}")
    for child in children:
        child.stdin.close()
        child.wait()


def _start(root: Path, env: dict) -> subprocess.Popen:
    child = subprocess.Popen(
        [root / ".venv" / "bin" / "python", Path(__file__).resolve(), "--child"],
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the request log
        text=True,
    )
    if child.stdout.readline().strip() != "ready":
        raise SystemExit(f"{root}: the app did not start")
    return child


def _ask(child: subprocess.Popen, command: str) -> dict:
    child.stdin.write(command + "\n")
    child.stdin.flush()
    return json.loads(child.stdout.readline())


def _analyze(url: str) -> None:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()


class Child:
    """One checkout's app (imported from the working directory), signing in on command."""

    def __init__(self) -> None:
        from sqlalchemy import Engine, event
        from sqlalchemy.pool import Pool

        self.statements, self.backends, self.backend_cpu = 0, set(), {}
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Pool, "connect", self._connected)
        event.listen(Pool, "close", lambda connection, record: self._postgres_ns())

        from backend import create_app, notify
        from backend.auth import passwords, services
        from backend.auth.lookups import look_up_account

        self.app, self.notify = create_app(), notify
        with self.app.app_context():
            if look_up_account(EMAIL) is None:
                fields = {"nid": "1990123456789", "phone_number": "+8801711999999"}
                services.register_citizen(name="Bench", email=EMAIL, password=PASSWORD, **fields)
        if not os.environ.get("SIGNIN_COST_REAL_HASH"):
            passwords.HASHERS["owasp"] = StubbedHasher(passwords.HASHERS["owasp"])
        self.body = f"username={EMAIL}&password={PASSWORD.replace(' ', '+')}".encode()
        self.environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/auth/token",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(self.body)),
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": "wrk",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    def _statement(self, *_args) -> None:
        self.statements += 1

    def _connected(self, connection, record) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backends.add(cursor.fetchone()[0])
        connection.rollback()

    def _postgres_ns(self) -> int:
        """CPU of every backend this process opened; a closed one keeps its last reading."""
        for pid in self.backends:
            try:
                with open(f"/proc/{pid}/schedstat") as stat:
                    self.backend_cpu[pid] = int(stat.read().split()[0])
            except FileNotFoundError:
                pass
        return sum(self.backend_cpu.values())

    def sign_in(self) -> None:
        statuses = []
        environ = {**self.environ, "wsgi.input": io.BytesIO(self.body)}
        result = self.app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        for _ in result:
            pass
        result.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"sign-in answered {statuses[0]}")

    def run(self, count: int) -> dict:
        self.notify.drain()
        statements, postgres = self.statements, self._postgres_ns()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            self.sign_in()
        self.notify.drain()
        return {
            "cpu_ms": (time.process_time() - cpu) * 1000 / count,
            "wall_ms": (time.perf_counter() - wall) * 1000 / count,
            "postgres_ms": (self._postgres_ns() - postgres) / 1e6 / count,
            "statements": (self.statements - statements) / count,
        }

    def calls(self, count: int) -> dict:
        import threading

        calls = 0

        def counted(frame, event, arg) -> None:
            nonlocal calls
            calls += event in ("call", "c_call")

        self.notify.drain()  # the next pool's threads start with the profile function
        threading.setprofile(counted)
        sys.setprofile(counted)
        self.run(count)
        sys.setprofile(None)
        threading.setprofile(None)
        return {"calls": calls / count}


class StubbedHasher:
    """The measuring script's argon2: verification is a constant-time yes; the rest is real."""

    def __init__(self, real) -> None:
        self.real = real

    def verify(self, hash: str, password: str) -> bool:
        return True

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def check_needs_rehash(self, hash: str) -> bool:
        return self.real.check_needs_rehash(hash)


def child() -> None:
    sys.path[0] = os.getcwd()  # the checkout under test, not this file's directory
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the app's own output
    measured = Child()
    print("ready", file=answers, flush=True)
    for line in sys.stdin:
        command, count = line.split()
        print(json.dumps(getattr(measured, command)(int(count))), file=answers, flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--child"]:
    child()
elif __name__ == "__main__":
    main()
