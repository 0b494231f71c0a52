"""Request logs (one JSON line each, no secrets ever) and Prometheus metrics."""

import json
import logging
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.observability import JsonFormatter
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import registration
from tests.outbox import body_of, code_in
from tests.server import METRICS_TOKEN, gunicorn, request


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    formatter = JsonFormatter()
    return lambda: [json.loads(formatter.format(record)) for record in caplog.records]


def test_one_json_line_per_request_with_the_request_id(client, auth, logs):
    user_id, headers = auth.citizen()
    client.get("/users/me", headers={**headers, "X-Request-ID": "trace-42"})
    line = [entry for entry in logs() if entry.get("request_id") == "trace-42"]
    assert len(line) == 1
    assert line[0]["method"] == "GET" and line[0]["path"] == "/users/me"
    assert line[0]["status"] == 200 and line[0]["user_id"] == user_id
    assert line[0]["duration_ms"] >= 0 and line[0]["time"]


def test_a_full_journey_leaves_no_secret_in_the_logs(client, auth, registry, mailbox, logs):
    body = registration(email="secretive@example.org", nid="9080706050")
    client.post("/auth/register", json=body)
    token = auth.token("secretive@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/users/me?access_token=" + token, headers=headers)
    client.post("/auth/password/forgot", json={"email": "secretive@example.org"})
    code = code_in(body_of(mailbox.wait_for("secretive@example.org")[-1]))
    reset = {"email": "secretive@example.org", "code": code, "new_password": "new secret words"}
    client.post("/auth/password/reset", json=reset)
    headers = auth.headers("secretive@example.org", "new secret words")
    vaccination_id, _ = registry.approved(headers)
    certificate = registry.token(vaccination_id, headers)
    client.post("/auth/token", data={"username": "secretive@example.org", "password": "bad pass"})
    text = json.dumps(logs())
    assert "request" in text
    for secret in (
        DEFAULT_PASSWORD,
        "new secret words",
        "bad pass",
        code,
        token,
        certificate,
        "9080706050",
        headers["Authorization"].split()[1],
    ):
        assert secret not in text


def test_metrics_count_requests_by_route_and_registrations_by_status(client, registry):
    registry.pending()
    client.get("/health")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}' in text
    assert 'vaccination_registrations{status="pending"} 1.0' in text


def test_metrics_token_is_required_when_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200


def test_metrics_add_up_across_gunicorn_workers(database_url, tmp_path):
    def health(_):
        with urllib.request.urlopen(f"{base}/health") as response:
            return response.status

    sent = 0
    with gunicorn(database_url, workers=3, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as base:
        deadline = time.monotonic() + 20
        # Until at least two workers have served (and so counted) some of the requests.
        while len(list(tmp_path.glob("counter_*.db"))) < 2 and time.monotonic() < deadline:
            with ThreadPoolExecutor(12) as pool:
                assert set(pool.map(health, range(60))) == {200}
            sent += 60
        scrape = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        with urllib.request.urlopen(scrape) as response:
            text = response.read().decode()
    assert len(list(tmp_path.glob("counter_*.db"))) >= 2
    counted = [
        line
        for line in text.splitlines()
        if line.startswith('http_requests_total{method="GET",route="/health",status="200"}')
    ]
    # One worker alone saw fewer than `sent`; only the sum over workers reaches it.
    assert counted and float(counted[0].split()[-1]) >= sent


def test_gunicorn_logs_a_worker_restart_without_logging_errors(database_url):
    # Its own format needs %(process)d: the app once turned logging.logProcesses off, and every
    # worker restart then printed "--- Logging error ---" instead of gunicorn's line.
    with gunicorn(database_url, workers=1, MAX_REQUESTS="20") as base:
        for _ in range(30):  # past 20 + jitter (at most 2): the worker is recycled
            assert request("GET", f"{base}/health")[0] == 200
        deadline = time.monotonic() + 10
        while "Autorestarting worker" not in base.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        output = base.output()
    assert "Autorestarting worker" in output
    assert "Logging error" not in output
