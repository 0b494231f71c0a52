"""A database connection lost mid-request (PgBouncer restarting): 503 or the answer, never 500.

The connections pass through tests/tcpproxy.py, which drops them all at the moment a test picks:
after a given statement, or after the response was built but before the request's teardown.
"""

import pytest
from flask import request_finished
from sqlalchemy import event

from backend import fastpath
from backend.extensions import db
from tests.conftest import DEFAULT_PASSWORD
from tests.tcpproxy import app_through, close_pools

ACCOUNT = {"name": "Drop Tester", "email": "drop@example.org", "password": DEFAULT_PASSWORD,
           "nid": "1990123456", "phone_number": "01712 345678"}  # fmt: skip


@pytest.fixture
def faulty(app, proxy):
    """An app whose database connections (both pools) all pass through `proxy`."""
    faulty = app_through(proxy, app)
    yield faulty
    close_pools(faulty)


def drop_after_statement(faulty, proxy, starts_with: str, *, lookup: bool = False) -> None:
    """Drop every connection right after the first statement that starts with `starts_with`,
    run on the app's engine or (lookup) on the autocommit engine of backend/fastpath.py."""
    with faulty.app_context():
        engine = fastpath.autocommit_engine() if lookup else db.engine
    dropped = []

    def after(connection, cursor, statement, *args):
        if statement.startswith(starts_with) and not dropped:
            dropped.append(statement)
            proxy.drop_connections()

    event.listen(engine, "after_cursor_execute", after)


def drop_after_response(faulty, proxy) -> None:
    """Drop every connection once the response is built, before the session is released."""
    request_finished.connect(lambda *_, **__: proxy.drop_connections(), faulty, weak=False)


def assert_unavailable(response):
    assert response.status_code == 503, response.get_data()
    assert response.get_json()["code"] == 503
    assert response.headers["Retry-After"]


def test_a_connection_lost_inside_a_transaction_is_503_and_writes_nothing(faulty, proxy):
    client = faulty.test_client()
    drop_after_statement(faulty, proxy, "INSERT INTO users")
    assert_unavailable(client.post("/auth/register", json=ACCOUNT))
    # Nothing was half-written: the same account registers now (a leftover row would be a 409).
    assert client.post("/auth/register", json=ACCOUNT).status_code == 201


def test_a_connection_lost_between_the_lookup_and_the_transaction_is_503(faulty, proxy, auth):
    _, headers = auth.citizen(email="caller@example.org")
    client = faulty.test_client()
    assert client.get("/appointments/me", headers=headers).status_code == 200
    drop_after_statement(faulty, proxy, "SELECT", lookup=True)  # the caller, in autocommit
    assert_unavailable(client.get("/appointments/me", headers=headers))
    # The lookups' pool still holds its own dead connection: at most one more 503, then healed.
    statuses = [client.get("/appointments/me", headers=headers).status_code for _ in range(3)]
    assert statuses[-1] == 200 and statuses.count(503) <= 1


def test_a_connection_lost_after_a_read_keeps_the_answer(faulty, proxy):
    client = faulty.test_client()
    drop_after_response(faulty, proxy)  # the read's transaction is still open at teardown
    response = client.get("/vaccines")
    assert response.status_code == 200
    assert response.get_json()


def test_a_connection_lost_after_a_write_keeps_the_201_and_its_row(faulty, proxy, client):
    faulty_client = faulty.test_client()
    drop_after_response(faulty, proxy)
    assert faulty_client.post("/auth/register", json=ACCOUNT).status_code == 201
    form = {"username": ACCOUNT["email"], "password": DEFAULT_PASSWORD}
    assert client.post("/auth/token", data=form).status_code == 200  # directly, not proxied
