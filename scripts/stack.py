"""A production-like local stack: HAProxy → N gunicorn instances → PgBouncer → PostgreSQL, Redis.

    python scripts/stack.py up       # start everything in the background, return once it answers
    python scripts/stack.py status   # what runs, with pids
    python scripts/stack.py down     # stop everything `up` started (idempotent)

Uses the local PostgreSQL (STACK_POSTGRES_URL; the database is created when missing and migrated
directly, not through PgBouncer) and starts its own Redis, PgBouncer (transaction mode), gunicorn
instances (the shipped gunicorn.conf.py) and HAProxy (round robin, health-checking /health/ready).
Configs, pid files, logs and the generated secrets live in STACK_DIR (default out/stack).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from stack_files import haproxy_cfg, pgbouncer_ini, write_env_file  # noqa: E402

ENV = os.environ
DIR = (ROOT / ENV.get("STACK_DIR", "out/stack")).resolve()
INSTANCES = int(ENV.get("RUSH_INSTANCES", "2"))
LB_PORT = int(ENV.get("STACK_LB_PORT", "8080"))
APP_PORTS = [int(ENV.get("STACK_APP_PORT", "8101")) + i for i in range(INSTANCES)]
PGBOUNCER_PORT = int(ENV.get("STACK_PGBOUNCER_PORT", "6432"))
REDIS_PORT = int(ENV.get("STACK_REDIS_PORT", "6380"))
STATS_PORT = int(ENV.get("STACK_HAPROXY_STATS_PORT", "8404"))
POSTGRES_URL = make_url(
    ENV.get("STACK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_stack")
)
BIN = ROOT / ".venv" / "bin"
SBIN_PATH = os.pathsep.join([ENV.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
# PgBouncer refuses to run as root; it switches to this user instead.
PGBOUNCER_USER = ENV.get("STACK_PGBOUNCER_USER", "nobody")
# The processes this run of `up` started: an early exit is reported with its status.
STARTED: dict[str, subprocess.Popen] = {}


def program(name: str) -> str:
    path = shutil.which(name, path=SBIN_PATH)
    if path is None:
        sys.exit(f"stack: {name} is not installed (make stack installs it when run as root)")
    return path


def pid_file(name: str) -> Path:
    return DIR / f"{name}.pid"


def running(name: str) -> int | None:
    """The pid of the component `name` if the process from its pid file still runs."""
    try:
        pid = int(pid_file(name).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    # A pid reused by an unrelated process is not ours to signal.
    return pid if cmdline and name.split("-")[0].encode() in cmdline else None


def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    """Start a foreground program detached from this one, its output in STACK_DIR/name.log."""
    with open(DIR / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(name).write_text(f"{process.pid}\n")
    STARTED[name] = process


def stop(*names: str, timeout: float = 40) -> None:
    """SIGTERM each (gunicorn lets requests in flight finish); SIGKILL what outlives timeout."""
    pids = {}
    for name in names:
        pid = running(name)
        pid_file(name).unlink(missing_ok=True)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            pids[name] = pid
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids.values()):
        if time.monotonic() > deadline:
            for pid in pids.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    for name, pid in pids.items():
        print(f"stopped {name} (pid {pid})")


def wait_for(name: str, check, timeout: float = 60) -> None:
    """Until check() is true; fail when the component `name` exits or takes too long."""
    deadline = time.monotonic() + timeout
    while not check():
        if gone(name):
            exited(name)
        if time.monotonic() > deadline:
            sys.exit(f"stack: {name} did not answer within {timeout:.0f} s; see {DIR / name}.log")
        time.sleep(0.2)


def gone(name: str) -> bool:
    """Whether the component `name` has exited: asked of its process when this run started it.

    Its /proc cmdline is no proof while it starts: read at the wrong moment it was empty or not
    yet the program's, and HAProxy was taken for dead while it was coming up (the intermittent
    "haproxy is not running" with an empty log)."""
    process = STARTED.get(name)
    if process is not None:
        return process.poll() is not None
    return running(name) is None


def exited(name: str) -> None:
    """Stop `up`: the component `name` is gone; say how it ended and what it wrote last."""
    process = STARTED.get(name)
    status = process.poll() if process else None
    how = f"exited with status {status}" if status is not None else "is not running"
    log = DIR / f"{name}.log"
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    sys.exit(f"stack: {name} {how}; {log} ends:\n{tail}")


def http_status(url: str, headers: dict | None = None) -> tuple[int, Message | None]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=2
        ) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers
    except OSError:
        return 0, None


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def database_answers(url) -> bool:
    try:
        psycopg2.connect(url.render_as_string(hide_password=False), connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def ensure_database(*, recreate: bool = False) -> None:
    """Create the stack's database if missing; with `recreate`, drop it first.

    A new env file holds new keys (AUDIT_KEY, DATA_ENCRYPTION_KEY): data written under another
    checkout's keys cannot be decrypted or verified with them, so it is not kept.
    """
    admin = POSTGRES_URL.set(database="postgres").render_as_string(hide_password=False)
    try:
        connection = psycopg2.connect(admin, connect_timeout=3)
    except psycopg2.OperationalError as error:
        sys.exit(
            f"stack: PostgreSQL at {POSTGRES_URL.host}:{POSTGRES_URL.port} answers not: {error}"
        )
    connection.autocommit = True
    with connection.cursor() as cursor:  # not `with connection`: that opens a transaction
        if recreate:
            cursor.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_URL.database}" WITH (FORCE)')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (POSTGRES_URL.database,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{POSTGRES_URL.database}"')
            print(f"created database {POSTGRES_URL.database}")
    connection.close()


def up() -> None:
    names = ["redis", "pgbouncer", *(f"gunicorn-{port}" for port in APP_PORTS), "haproxy"]
    if all(running(name) for name in names):
        print("stack: already up")
        return summary()
    if any(running(name) for name in names):
        sys.exit("stack: partly running; make stack-down first (scripts/stack.py status)")
    tools = {name: program(name) for name in ("haproxy", "pgbouncer", "redis-server")}
    for port in (LB_PORT, STATS_PORT, PGBOUNCER_PORT, REDIS_PORT, *APP_PORTS):
        if not port_free(port):
            sys.exit(f"stack: port {port} is taken (README, Production-like stack: STACK_*_PORT)")
    DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(recreate=not (DIR / "env").exists())
    app_env = write_env_file(DIR / "env", POSTGRES_URL, PGBOUNCER_PORT, REDIS_PORT)
    start_redis(tools["redis-server"])
    start_pgbouncer(tools["pgbouncer"])
    print("migrating (directly, not through PgBouncer)")
    migrate_env = {**ENV, **app_env, "DATABASE_URL": app_env["STACK_DIRECT_DATABASE_URL"]}
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=migrate_env, check=True)
    pooled = make_url(app_env["DATABASE_URL"])
    wait_for("pgbouncer", lambda: database_answers(pooled))
    start_instances(app_env)
    start_balancer(tools["haproxy"])
    summary()


def start_redis(redis_server: str) -> None:
    """Redis without persistence: throttle counters may be lost, nothing else lives there."""
    start("redis", [redis_server, "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(DIR)])  # fmt: skip


def start_pgbouncer(pgbouncer: str) -> None:
    run_dir = DIR / "pgbouncer"
    run_dir.mkdir(exist_ok=True)
    (run_dir / "pgbouncer.ini").write_text(
        pgbouncer_ini(POSTGRES_URL, PGBOUNCER_PORT, run_dir, INSTANCES)
    )
    (run_dir / "userlist.txt").write_text(f'"{POSTGRES_URL.username}" ""\n')
    argv = [pgbouncer, str(run_dir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(run_dir, PGBOUNCER_USER)
        argv[1:1] = ["-u", PGBOUNCER_USER]
    start("pgbouncer", argv)


def start_instances(app_env: dict[str, str]) -> None:
    """gunicorn as shipped (gunicorn.conf.py), each with its own metrics folder."""
    for port in APP_PORTS:
        start_instance(app_env, port)
    for port in APP_PORTS:
        url = f"http://127.0.0.1:{port}/health/ready"
        wait_for(f"gunicorn-{port}", lambda url=url: http_status(url)[0] == 200)


def start_instance(app_env: dict[str, str], port: int) -> None:
    env = {**ENV, **app_env, "HOST": "127.0.0.1", "PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(DIR / f"metrics-{port}")}  # fmt: skip
    argv = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
    start(f"gunicorn-{port}", argv, env)


def start_balancer(haproxy: str) -> None:
    """HAProxy, then wait until it has answered /health/ready through every instance."""
    (DIR / "haproxy.cfg").write_text(haproxy_cfg(LB_PORT, APP_PORTS, STATS_PORT))
    start("haproxy", [haproxy, "-f", str(DIR / "haproxy.cfg")])
    served_by: set[str] = set()

    def every_instance_seen() -> bool:
        status, headers = http_status(f"http://127.0.0.1:{LB_PORT}/health/ready")
        if status == 200:
            served_by.add(headers.get("X-Served-By", ""))  # HAProxy sends it lowercased
        return served_by >= {f"app{port}" for port in APP_PORTS}

    wait_for("haproxy", every_instance_seen)


def summary() -> None:
    where = DIR.relative_to(ROOT) if DIR.is_relative_to(ROOT) else DIR
    print(
        f"\nstack up: http://127.0.0.1:{LB_PORT} (HAProxy, round robin over {INSTANCES} "
        f"instances: {', '.join(map(str, APP_PORTS))})\n"
        f"  HAProxy stats http://127.0.0.1:{STATS_PORT}/\n"
        f"  PgBouncer 127.0.0.1:{PGBOUNCER_PORT} (transaction mode) → PostgreSQL "
        f"{POSTGRES_URL.host}:{POSTGRES_URL.port}/{POSTGRES_URL.database}; "
        f"Redis 127.0.0.1:{REDIS_PORT}\n"
        f"  environment, logs, pids: {where}\n"
        "  stop: make stack-down"
    )


def down() -> None:
    stop("haproxy")
    stop(*(path.stem for path in DIR.glob("gunicorn-*.pid")))
    stop("pgbouncer", "redis")


def status() -> None:
    names = ["haproxy", *sorted(p.stem for p in DIR.glob("gunicorn-*.pid")), "pgbouncer", "redis"]
    for name in names:
        pid = running(name)
        print(f"{name:16} {'pid ' + str(pid) if pid else 'not running'}")


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)}")
    commands[sys.argv[1]]()
