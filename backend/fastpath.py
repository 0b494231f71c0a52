"""Statements on the hot paths in one round trip: a connection in autocommit, no transaction.

Every authenticated request reads its caller, and every sign-in reads an account (a session's
last-seen time is written at most once a minute; the new-client check, rarer, runs in a
transaction of its own under a lock, in backend/auth/new_client.py). Through the session each read
would pay BEGIN ... ROLLBACK around one row, two round trips more than the query. So on
PostgreSQL these reads go through a small engine of their own whose connections stay in
autocommit (switching a pooled connection in and out of it would cost the round trips back).
Each statement is its own transaction and nothing is prepared on the server, so the reads work
through PgBouncer in transaction mode like everything else. SQLite, the tests' default, runs the
same statements through the same function on the app's engine.

Errors, disconnects and the pool are SQLAlchemy's own: a dropped connection is invalidated and
raised as a DBAPIError, which backend/outages.py answers with a 503.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Engine, Executable, Row, create_engine

from backend.extensions import db

LOOKUP_APPLICATION_NAME = "vaccination-lookups"


def first_row(statement: Executable, params: dict) -> Row | None:
    """The first row of `statement` for `params`, or None, outside any transaction."""
    with autocommit_engine().connect() as connection:
        return connection.execute(statement, params).first()


def execute(statement: Executable, params: dict) -> int:
    """Run one writing `statement` for `params` as its own transaction; the rows it matched."""
    with autocommit_engine().begin() as connection:  # on SQLite, a commit of its own
        return connection.execute(statement, params).rowcount


def autocommit_engine() -> Engine:
    """The engine for `first_row`, made once per app and process (after gunicorn's fork)."""
    engine = current_app.extensions.get("autocommit_engine")
    if engine is None:
        engine = db.engine
        if engine.dialect.name == "postgresql":
            # The app's engine options, except a pre-ping: that would be a second round trip per
            # request. A connection broken by a database restart fails once (503) and is replaced.
            options = dict(current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
            options.pop("pool_pre_ping", None)
            options["isolation_level"] = "AUTOCOMMIT"
            # One statement at a time per request: a small pool, counted beside the app's pool.
            options["pool_size"], options["max_overflow"] = 2, 2
            # Named, so an operator (and the tests) can tell these connections apart in
            # pg_stat_activity; PgBouncer passes application_name through in any pool mode.
            connect_args = dict(options.get("connect_args") or {})
            connect_args["application_name"] = LOOKUP_APPLICATION_NAME
            options["connect_args"] = connect_args
            engine = create_engine(engine.url, **options)
        current_app.extensions["autocommit_engine"] = engine
    return engine
