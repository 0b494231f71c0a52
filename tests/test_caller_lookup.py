"""The caller lookup on PostgreSQL (its own autocommit pool, a prepared statement) fails safely."""

from sqlalchemy import text

from backend.extensions import db

DROP_LOOKUP_CONNECTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND query LIKE 'EXECUTE %'"
)


def test_a_dropped_lookup_connection_is_503_once_then_replaced(app, client, auth, postgres_url):
    _, headers = auth.citizen()
    assert client.get("/users/me", headers=headers).status_code == 200
    with app.app_context(), db.engine.begin() as connection:
        assert connection.execute(DROP_LOOKUP_CONNECTIONS).first() is not None
    dropped = client.get("/users/me", headers=headers)
    assert dropped.status_code == 503 and dropped.get_json()["code"] == 503
    assert client.get("/users/me", headers=headers).status_code == 200


def test_revoked_and_stale_tokens_are_refused_through_the_prepared_lookup(
    client, auth, postgres_url
):
    _, headers = auth.citizen(email="lookup@example.org")
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/users/me", headers=headers).status_code == 401
