"""One JSON log line per request, and Prometheus metrics that add up across gunicorn workers.

The log line carries method, path (never the query string), status, duration, request id and
user id; nothing a client sends in a body or header is logged, so passwords, codes, tokens and
national IDs cannot reach it.
"""

from __future__ import annotations

import hmac
import json
import logging
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request
from flask_smorest import abort
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

log = logging.getLogger("backend.request")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class JsonFormatter(logging.Formatter):
    """A JSON object per line: time, level, logger, message, plus the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: str) -> None:
    """JSON lines (or plain text) to stderr at INFO, set up once per process."""
    root = logging.getLogger()
    if getattr(root, "_vaccination_configured", False):
        return
    # Records need neither; logProcesses stays on: gunicorn's own format uses %(process)d.
    logging.logThreads = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # chatty at start
    root._vaccination_configured = True


def _start_timer() -> None:
    g.started = time.perf_counter()


_request_children: dict[tuple, tuple] = {}


def _metrics_for(method: str, route: str, status: int) -> tuple:
    """The counter and histogram children for these labels (looked up once, then cached)."""
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, status), LATENCY.labels(method, route))
        _request_children[key] = children
    return children


def _observe(response):
    elapsed = time.perf_counter() - g.pop("started", time.perf_counter())
    rule = request.url_rule
    method, status = request.method, response.status_code
    counter, histogram = _metrics_for(method, rule.rule if rule else "unmatched", status)
    counter.inc()
    histogram.observe(elapsed)
    if log.isEnabledFor(logging.INFO):
        caller = g.get("caller")
        fields = {
            "method": method,
            "path": request.path,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "request_id": g.get("request_id"),
            "user_id": caller["id"] if caller is not None else None,
        }
        # makeRecord + handle: the same record as log.info(), without its stack walk.
        record = log.makeRecord(log.name, logging.INFO, "", 0, "request", (), None)
        record.fields = fields
        log.handle(record)
    return response


class RegistrationsCollector:
    """Registrations by status, counted in the database when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from backend.extensions import db
        from backend.models import Vaccination

        family = GaugeMetricFamily(
            "vaccination_registrations", "Vaccination registrations by status", labels=["status"]
        )
        with self.app.app_context():
            rows = db.session.execute(
                select(Vaccination.status, func.count()).group_by(Vaccination.status)
            ).all()
            db.session.remove()
        for status, count in rows:
            family.add_metric([str(status)], count)
        yield family


def metrics():
    """Prometheus metrics (all workers together in multiprocess mode)"""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(
                401,
                message="Metrics need the metrics token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    registry = CollectorRegistry()
    if current_app.config["PROMETHEUS_MULTIPROC_DIR"]:
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    output = generate_latest(registry)
    registrations = CollectorRegistry()
    registrations.register(RegistrationsCollector(current_app._get_current_object()))
    output += generate_latest(registrations)
    return Response(output, mimetype=CONTENT_TYPE_LATEST)


def init_observability(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics)
