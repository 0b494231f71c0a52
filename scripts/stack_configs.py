"""The configuration files scripts/stack.py writes for PgBouncer and HAProxy."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL


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
max_client_conn = {max(200, instances * 2 * 10 * 4)}
default_pool_size = 20
reserve_pool_size = 5
server_lifetime = 3600
log_connections = 0
log_disconnections = 0
"""


def haproxy_cfg(port: int, app_ports: list[int], stats_port: int) -> str:
    """Round robin over the instances, each health-checked on /health/ready every 2 s."""
    servers = "\n".join(
        f"    server app{app_port} 127.0.0.1:{app_port} check" for app_port in app_ports
    )
    return f"""\
global
    log stdout format raw local0
    maxconn 4000

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
