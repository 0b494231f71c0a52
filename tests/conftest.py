"""Fixtures: one migrated database per run, emptied after every test; a client and auth helpers."""

from __future__ import annotations

import itertools
import os
import uuid
from functools import cache
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend import create_app, notify
from backend.extensions import db
from tests.booking import Booking
from tests.factories import make_user
from tests.outbox import SmsInbox, start_smtp
from tests.registry import Registry
from tests.tcpproxy import TcpProxy

DEFAULT_PASSWORD = "correct horse battery"
STAFF_NIDS = itertools.count(1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """TEST_DATABASE_URL when set (CI's PostgreSQL), else a temporary SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture
def postgres_url(database_url):
    """The PostgreSQL test database, for tests that run a multi-worker gunicorn against it."""
    if not database_url.startswith("postgres"):
        pytest.skip("multi-worker tests run on PostgreSQL (set TEST_DATABASE_URL)")
    return database_url


@pytest.fixture
def make_app(app):
    """Another app on the same database with throttling on; overrides go to its config."""

    def make(**overrides):
        config = {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
        return create_app({**config, **overrides})

    return make


@pytest.fixture
def proxy(postgres_url):
    """A TCP proxy in front of the PostgreSQL test database, for tests that cut connections."""
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.cut()


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server on loopback that keeps what it receives."""
    controller, mailbox = start_smtp()
    yield controller, mailbox
    controller.stop()


@pytest.fixture(scope="session")
def sms_server():
    inbox = SmsInbox()
    yield inbox
    inbox.shutdown()
    inbox.server_close()


@pytest.fixture
def mailbox(mail_server):
    _, mailbox = mail_server
    notify.drain()  # nothing queued by an earlier test may arrive during this one
    mailbox.messages.clear()
    return mailbox


@pytest.fixture
def sms(sms_server):
    notify.drain()
    sms_server.received.clear()
    return sms_server


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, mail_server, sms_server):
    controller, _ = mail_server
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url_for_sqlalchemy(database_url),
            "INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
            "MAIL_SERVER": controller.hostname,
            "MAIL_PORT": controller.port,
            "SMS_WEBHOOK_URL": sms_server.url,
        }
    )
    with app.app_context():
        reset_schema()
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def database_url_for_sqlalchemy(url: str) -> str:
    from config import normalise_database_url

    return normalise_database_url(url)


def reset_schema() -> None:
    """Start from an empty database, whatever an earlier run left behind."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@cache
def seeded_rows() -> dict[str, list[dict]]:
    """Rows the data migrations seed, read from the migrations themselves (their one source)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    return {
        "audit_head": scripts.get_revision("0003").module.SEED_AUDIT_HEAD,
        "vaccines": scripts.get_revision("0004").module.SEED_VACCINES,
    }


RESTART_SEQUENCES = text(
    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
)


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    notify.drain()  # a background job still running would write into the next test
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            # DELETE of the few rows a test leaves is several times quicker than TRUNCATE, which
            # makes new files for every table it empties; only the audit trail, whose
            # append-only trigger refuses DELETE, is truncated.
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("TRUNCATE audit_events"))
            for table in reversed(db.metadata.sorted_tables):
                if not (postgres and table.name == "audit_events"):
                    connection.execute(table.delete())
            if postgres:  # ids start at 1 again, as they do on SQLite once a table is empty
                connection.execute(RESTART_SEQUENCES)
            for name, rows in seeded_rows().items():
                connection.execute(db.metadata.tables[name].insert(), rows)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def context(app):
    with app.app_context():
        yield


class Auth:
    """Sign-in helpers: create accounts and get `Authorization` headers for them."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def token(self, email: str, password: str = DEFAULT_PASSWORD) -> str:
        response = self.client.post("/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def headers(self, email: str, password: str = DEFAULT_PASSWORD) -> dict:
        return {"Authorization": f"Bearer {self.token(email, password)}"}

    def citizen(self, **fields):
        """A new citizen account and its auth headers."""
        with self.app.app_context():
            user = make_user(**fields)
            email, user_id = user.email, user.id
        return user_id, self.headers(email, fields.get("password", DEFAULT_PASSWORD))

    def admin(self, **fields):
        return self.citizen(role_id=2, **fields)

    def vaccinator(self, center_id: int, **fields):
        """A vaccinator at `center_id` with a staff NID only, like the accounts admins create."""
        fields.setdefault("nid", None)
        fields.setdefault("staff_nid", f"77{center_id:04d}{next(STAFF_NIDS):07d}")
        return self.citizen(role_id=3, center_id=center_id, **fields)


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def registry(app, client, auth):
    """Helpers to register for doses and review them over HTTP."""
    return Registry(app, client, auth)


@pytest.fixture
def long_lived_tokens(app, monkeypatch):
    """For tests that move the one clock by days or weeks: tokens expire by that clock too."""
    monkeypatch.setitem(app.config, "ACCESS_TOKEN_MINUTES", 400 * 24 * 60)


@pytest.fixture
def booking(app, client, auth):
    """Helpers to publish sessions and book appointments over HTTP."""
    return Booking(app, client, auth)
