"""gunicorn settings (gunicorn reads this file from the working directory by itself).

Everything a PaaS sets comes from the environment: PORT, WEB_CONCURRENCY.
"""

import gc
import os
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# sync, chosen by measurement (docs/benchmarks.md): gthread was slower on every run for
# /users/me (each database round trip hands the GIL to a CPU-bound thread), and argon2 sign-ins
# are CPU-bound anyway. workers = 2 per 2 cores by default; WEB_CONCURRENCY sets it.
worker_class = "sync"
# Requests in flight when SIGTERM arrives get this long to finish.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# gunicorn 27's control socket lives at one path per user, shared by every instance on the
# host: a second instance (another app, a test server, a rolling restart) removes the first's.
# Nothing here uses gunicornc, so no socket is opened.
control_socket_disable = True
# Build the app once in the master: a worker (at start, or recycled by max_requests) forks
# ready instead of spending about a second of CPU importing and building it (docs/benchmarks.md
# measures what a recycle costs). post_fork below gives each worker its own connections.
# A code change therefore needs a full restart (a PaaS deploy does one), not a SIGHUP.
preload_app = True
# Recycle workers now and then (jittered so they do not all restart at once).
max_requests = int(os.environ.get("MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The app writes one JSON line per request itself; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
# gunicorn answers headers over its limits with its own HTML 400 before the app sees them.
# Raise the per-field limit well past the app's own 8 KiB Authorization limit, so the app
# answers (a JSON 401); beyond 64 KiB gunicorn still refuses on its own.
limit_request_line = 8190
limit_request_field_size = 64 * 1024

# Prometheus metrics are kept in files shared by the workers (prometheus_client's
# multiprocess mode). Set here, in the master, so every worker inherits it.
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"vaccination-metrics-{os.getpid()}"),
)


def on_starting(server):
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def pre_fork(server, worker):
    """Freeze what the preloaded app made, so a worker's garbage collector never walks it.

    The app is ~200,000 tracked objects: a full collection walking them took 100-480 ms (a p99
    spike for every request queued behind it) and wrote to every page holding one (copy on
    write). Frozen, a full collection takes ~0.1 ms (bench/notes.md, Python's gc.freeze docs).
    """
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """The app (and its connection pool) was built before the fork: each worker starts clean."""
    app = server.app.wsgi()
    if server.cfg.preload_app and "sqlalchemy" in getattr(app, "extensions", {}):
        from backend.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)


def worker_exit(server, worker):
    """Let codes already queued for delivery go out before the worker process ends."""
    from backend import notify

    notify.drain()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_dir)
