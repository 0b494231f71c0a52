"""The files scripts/stack.py writes: the app's environment, PgBouncer's and HAProxy's configs."""

from __future__ import annotations

import base64
import resource
import secrets
from pathlib import Path

from sqlalchemy.engine import URL

from config import generate_signing_key

SECRETS = ("SECRET_KEY", "CERT_SIGNING_KEY", "AUDIT_KEY", "METRICS_TOKEN", "DATA_ENCRYPTION_KEY")


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {
        key.removeprefix("export "): value.strip("'")
        for key, value in pairs
        if not key.startswith("#")
    }


def write_env_file(path: Path, postgres: URL, pgbouncer_port: int, redis_port: int) -> dict:
    """The app's environment, secrets kept across restarts; a shell can source it."""
    kept = read_env_file(path)
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CERT_SIGNING_KEY": generate_signing_key().strip().replace("\n", "\\n"),
        "AUDIT_KEY": secrets.token_urlsafe(48),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "DATA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    direct = postgres.render_as_string(hide_password=False)
    pooled = postgres.set(host="127.0.0.1", port=pgbouncer_port)
    lines = [
        "# The local stack's app environment, written by scripts/stack.py. Never commit it.",
        "export FLASK_APP='wsgi:app'",
        "export APP_ENV='production'",
        "export TRUSTED_PROXIES='1'",
        "# Launch day runs walk-in days: a session stays bookable through its own day, so the",
        "# rush books today's sessions and their vaccinators give the doses the same day.",
        "export BOOKING_CUTOFF='off'",
        f"export REDIS_URL='redis://127.0.0.1:{redis_port}/0'",
        f"export DATABASE_URL='{pooled.render_as_string(hide_password=False)}'",
        "# PgBouncer rejects startup options: the statement timeout is left to the server.",
        "export DATABASE_STATEMENT_TIMEOUT_MS='0'",
        "# PostgreSQL itself, not through PgBouncer: for `flask db upgrade` (migrations).",
        f"export STACK_DIRECT_DATABASE_URL='{direct}'",
    ]
    lines += [f"export {name}='{kept.get(name) or generated[name]}'" for name in SECRETS]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return read_env_file(path)


def pgbouncer_ini(postgres: URL, port: int, run_dir: Path, instances: int) -> str:
    """Transaction pooling: a server connection is lent for one transaction, then returned.

    So the app may keep nothing in a session between transactions (no SET, no SQL PREPARE,
    no advisory locks, no startup options), which is what the stack is there to prove.
    """
    target = f"host={postgres.host} port={postgres.port or 5432} dbname={postgres.database}"
    # Each instance's workers pool 5 + 5 connections by default; PgBouncer multiplexes them
    # over a few server connections (PostgreSQL's max_connections is shared with others here).
    return f"""\
[databases]
{postgres.database} = {target} user={postgres.username}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {run_dir / "userlist.txt"}
pool_mode = transaction
; SHOW POOLS, SHOW STATS: psql -p {port} -U {postgres.username} pgbouncer
stats_users = {postgres.username}
max_client_conn = {max(200, instances * 2 * 10 * 4)}
default_pool_size = 20
reserve_pool_size = 5
server_lifetime = 3600
log_connections = 0
log_disconnections = 0
"""


def haproxy_maxconn(max_files: int | None = None) -> int:
    """4,000 connections, or fewer when the process may not open the files that takes.

    HAProxy needs two descriptors a connection (client and server side) plus a few, and since
    2.6 (`strict-limits` on by default) it refuses to start when it cannot raise its limit that
    far: "Cannot raise FD limit to 8020". A shell or CI runner with a hard limit of 4,096 open
    files (a common default) thus stopped the stack at HAProxy while everything else started.
    """
    if max_files is None:
        max_files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if max_files == resource.RLIM_INFINITY:
            return 4000
    return max(64, min(4000, (max_files - 100) // 2))


def haproxy_cfg(
    port: int, app_ports: list[int], stats_port: int, max_files: int | None = None
) -> str:
    """Round robin over the instances, each health-checked on /health/ready every 2 s."""
    servers = "\n".join(
        f"    server app{app_port} 127.0.0.1:{app_port} check" for app_port in app_ports
    )
    return f"""\
global
    log stdout format raw local0
    maxconn {haproxy_maxconn(max_files)}

defaults
    mode http
    log global
    option httplog
    option dontlognull
    # The client's address goes to the app in X-Forwarded-For (TRUSTED_PROXIES=1 reads the
    # last one, which HAProxy appends, so a client cannot spoof it).
    option forwardfor
    # A request whose instance refused the connection is retried on another one.
    option redispatch
    retries 2
    # Also retry a request that an instance took and then dropped unanswered (it died): only
    # GET and HEAD, as a POST may have been applied before the instance went away.
    retry-on conn-failure empty-response
    timeout connect 3s
    timeout http-request 10s
    timeout queue 30s
    # Above gunicorn's own 30 s worker timeout.
    timeout client 60s
    timeout server 60s

frontend api
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    http-request disable-l7-retry if !METH_GET
    default-server inter 2s fall 2 rise 2
    http-response set-header X-Served-By %[srv_name]
{servers}

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
    stats refresh 5s
"""
