"""The caller lookup on PostgreSQL (its own autocommit pool, a prepared statement) fails safely."""

from sqlalchemy import text

from backend import create_app, fastpath
from backend.extensions import db
from config import normalise_database_url

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


def test_the_fast_pool_connects_to_fastpath_database_url(app, auth, postgres_url):
    """Behind PgBouncer the prepared statements need a session-mode entry: a URL of their own."""
    separator = "&" if "?" in postgres_url else "?"
    own = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "FASTPATH_DATABASE_URL": normalise_database_url(
                f"{postgres_url}{separator}application_name=fastpath-pool"
            ),
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
        }
    )
    _, headers = auth.citizen(email="own-url@example.org")
    assert own.test_client().get("/users/me", headers=headers).status_code == 200
    with own.app_context():
        with db.engine.connect() as connection:
            lookups = connection.scalar(FAST_POOL_LOOKUPS)
        fastpath.fast_engine().dispose()
        db.engine.dispose()
    assert lookups == 1


FAST_POOL_LOOKUPS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND application_name = 'fastpath-pool' AND query LIKE 'EXECUTE caller_lookup%'"
)
