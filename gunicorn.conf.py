"""gunicorn settings (read by gunicorn itself from the working directory), from the PaaS env."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Requests in flight when SIGTERM arrives get this long to finish.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# The app logs requests itself; gunicorn's access log would repeat them.
accesslog = None
errorlog = "-"
# gunicorn answers headers over its limits with its own HTML 400 before the app sees them.
# Raise the per-field limit well past the app's own 8 KiB Authorization limit, so the app
# answers (a JSON 401); beyond 64 KiB gunicorn still cuts the connection short.
limit_request_line = 8190
limit_request_field_size = 64 * 1024


def worker_exit(server, worker):
    """Let codes already queued for delivery go out before the worker process ends."""
    from backend import notify

    notify.drain()
