"""The caller lookup on PostgreSQL (own autocommit pool, outside any transaction) fails safely."""

from sqlalchemy import text

from backend.extensions import db

# The lookups' pool names its connections (backend/fastpath.py).
DROP_LOOKUP_CONNECTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name = 'vaccination-lookups'"
)
LOOKUPS_IN_A_TRANSACTION = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND application_name = 'vaccination-lookups' AND state <> 'idle'"
)


def test_a_dropped_lookup_connection_is_503_once_then_replaced(app, client, auth, postgres_url):
    _, headers = auth.citizen()
    assert client.get("/users/me", headers=headers).status_code == 200
    with app.app_context(), db.engine.begin() as connection:
        assert connection.execute(DROP_LOOKUP_CONNECTIONS).first() is not None
    dropped = client.get("/users/me", headers=headers)
    assert dropped.status_code == 503 and dropped.get_json()["code"] == 503
    assert client.get("/users/me", headers=headers).status_code == 200


def test_revoked_and_stale_tokens_are_refused_through_the_lookup(client, auth, postgres_url):
    _, headers = auth.citizen(email="lookup@example.org")
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/users/me", headers=headers).status_code == 401


def test_the_lookup_leaves_no_transaction_open(app, client, auth, postgres_url):
    """Autocommit: PgBouncer in transaction mode may give its server connection to anyone next."""
    _, headers = auth.citizen(email="idle@example.org")
    assert client.get("/users/me", headers=headers).status_code == 200
    with app.app_context(), db.engine.connect() as connection:
        assert connection.scalar(LOOKUPS_IN_A_TRANSACTION) == 0
