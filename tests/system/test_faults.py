"""Database outages: 503 JSON within seconds, liveness unaffected, recovery without restart."""

import time

import pytest

from tests.tcpproxy import app_through, close_pools


@pytest.fixture
def proxied_client(app, proxy):
    """A client of an app whose database connections all pass through `proxy`."""
    faulty = app_through(proxy, app)
    yield faulty.test_client()
    close_pools(faulty)


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def assert_unavailable(response, elapsed):
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == 503
    assert response.headers["Retry-After"]
    assert elapsed < 5.5


def test_database_gone_is_503_quickly_while_liveness_stays_200(proxied_client, proxy, auth):
    auth.citizen(email="outage@example.org")
    assert proxied_client.get("/health/ready").status_code == 200
    proxy.cut()
    assert_unavailable(*timed(lambda: proxied_client.get("/health/ready")))
    assert proxied_client.get("/health").status_code == 200
    sign_in = {"username": "outage@example.org", "password": "whatever it is"}
    assert_unavailable(*timed(lambda: proxied_client.post("/auth/token", data=sign_in)))
    assert_unavailable(*timed(lambda: proxied_client.get("/vaccines")))


def test_blackholed_database_is_503_within_the_connect_timeout(proxied_client, proxy):
    proxy.cut()
    proxy.restore()
    proxy.hang()
    assert_unavailable(*timed(lambda: proxied_client.get("/health/ready")))


def test_service_recovers_by_itself_when_the_database_returns(proxied_client, proxy):
    assert proxied_client.get("/health/ready").status_code == 200
    proxy.cut()
    assert proxied_client.get("/health/ready").status_code == 503
    proxy.restore()
    statuses = [proxied_client.get("/health/ready").status_code for _ in range(3)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}


def test_a_restart_that_drops_pooled_connections_costs_at_most_one_503(proxied_client, proxy):
    assert proxied_client.get("/vaccines").status_code == 200
    proxy.drop_connections()
    statuses = [proxied_client.get("/vaccines").status_code for _ in range(3)]
    assert statuses.count(503) <= 1 and statuses[-1] == 200
