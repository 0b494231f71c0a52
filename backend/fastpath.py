"""The hot paths' own small pool: autocommit connections, prepared statements, raw cursors.

Every authenticated request reads its caller, and every sign-in reads an account and appends
an audit event. Through the ORM session each of those costs more Python than database work:
a read pays BEGIN ... ROLLBACK around one row, and SQLAlchemy's Session, Connection and Result
around a one-row query cost more CPU than the query (measured in bench/notes.md). So on
PostgreSQL these run on autocommit connections of their own (switching a pooled connection to
autocommit and back costs a round trip), as server-side prepared statements (planning the
caller's join costs about three times as much as running it), straight on the DBAPI cursor.

Errors are raised as SQLAlchemy's (the app maps them to 503 for an outage), a transaction left
open by an error is rolled back, and a connection the database dropped is replaced, as
SQLAlchemy's own execution would do. SQLite (the tests' default) runs the same statements
through SQLAlchemy on the app's engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from psycopg2 import extensions
from sqlalchemy import Engine, Executable, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from backend.extensions import db

# name -> (statement, its bind parameters in order, their PostgreSQL types)
PREPARED: dict[str, tuple[Executable | str, tuple[str, ...], tuple[str, ...]]] = {}
# name -> `EXECUTE name(%(key)s, ...)`, to run with a dict of parameters on a raw cursor
EXECUTE: dict[str, str] = {}


def prepared(name: str, statement: Executable | str, params: dict[str, str]) -> str:
    """Register `statement` to be prepared as `name` on each PostgreSQL connection of the pool.

    `params` maps each bind parameter, in order, to its PostgreSQL type; a statement given as
    SQL text (PostgreSQL only) numbers them $1, $2, ... in that order.
    """
    PREPARED[name] = (statement, tuple(params), tuple(params.values()))
    placeholders = ", ".join(f"%({key})s" for key in params)
    EXECUTE[name] = f"EXECUTE {name}({placeholders})" if params else f"EXECUTE {name}"
    return name


def first_row(name: str, params: dict) -> tuple | None:
    """The first row of the prepared statement `name` for `params`, or None."""
    engine = fast_engine()
    if not on_postgresql(engine):
        with engine.connect() as connection:
            row = connection.execute(PREPARED[name][0], params).first()
        return None if row is None else tuple(row)
    with raw_cursor() as cursor:
        cursor.execute(EXECUTE[name], params)
        return cursor.fetchone()


def on_postgresql(engine: Engine | None = None) -> bool:
    return (engine or fast_engine()).dialect.name == "postgresql"


@contextmanager
def raw_cursor() -> Iterator:
    """A psycopg2 cursor on an autocommit connection of the fast pool (PostgreSQL only).

    A transaction the caller opened with BEGIN is rolled back if anything fails before COMMIT.
    """
    engine = fast_engine()
    dbapi = engine.dialect.loaded_dbapi
    try:
        connection = engine.raw_connection()
    except dbapi.Error as error:  # no connection to be had: the database is down (503)
        raise DBAPIError.instance(None, None, error, dbapi.Error, dialect=engine.dialect) from error
    try:
        cursor = connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
    except dbapi.Error as error:
        dropped = engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
        if not dropped:
            dropped = not _roll_back(connection.dbapi_connection)
        if dropped:
            connection.invalidate(error)
        raise DBAPIError.instance(
            None, None, error, dbapi.Error, connection_invalidated=dropped, dialect=engine.dialect
        ) from error
    except BaseException:
        if not _roll_back(connection.dbapi_connection):
            connection.invalidate()
        raise
    finally:
        connection.close()  # back to the pool


def _roll_back(dbapi_connection) -> bool:
    """End a transaction left open (autocommit: the driver's rollback() does nothing).

    False when the connection is unusable and must be replaced.
    """
    status = dbapi_connection.info.transaction_status
    if status == extensions.TRANSACTION_STATUS_IDLE:
        return True
    if status not in (extensions.TRANSACTION_STATUS_INTRANS, extensions.TRANSACTION_STATUS_INERROR):
        return False
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
    except extensions.Error:
        return False
    return True


def fast_engine() -> Engine:
    """The autocommit engine beside the session's, made once per app and process.

    SQLite (the tests' in-memory database lives in one connection) uses the app's engine.
    """
    engine = current_app.extensions.get("fast_engine")
    if engine is None:
        engine = db.engine
        if on_postgresql(engine):
            # The app's engine options, except a pre-ping: that would be a second round trip per
            # request. A connection broken by a database restart fails once (503) and is replaced.
            options = dict(current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
            options.pop("pool_pre_ping", None)
            options["isolation_level"] = "AUTOCOMMIT"
            # One statement at a time per request: a small pool, counted beside the app's pool.
            options["pool_size"], options["max_overflow"] = 2, 2
            url = current_app.config.get("FASTPATH_DATABASE_URL") or engine.url
            engine = create_engine(url, **options)
            event.listen(engine, "connect", _prepare_all)
        current_app.extensions["fast_engine"] = engine
    return engine


def _prepare_all(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for name, (statement, order, types) in PREPARED.items():
        sql = statement
        if not isinstance(statement, str):
            sql = str(statement.compile(dialect=postgresql.dialect()))
            for position, key in enumerate(order, start=1):
                sql = sql.replace(f"%({key})s", f"${position}")
        signature = f" ({', '.join(types)})" if types else ""
        cursor.execute(f"PREPARE {name}{signature} AS {sql}")
    cursor.close()
    dbapi_connection.commit()
