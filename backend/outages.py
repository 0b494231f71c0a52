"""Database outages: a lost connection answers 503, and the request's session is let go safely."""

from __future__ import annotations

import logging

from flask_smorest import abort
from sqlalchemy.exc import DBAPIError, OperationalError

from backend.extensions import db

# The logger these warnings were always written under (backend/errors.py's, before the split).
log = logging.getLogger("backend.errors")

DATABASE_RETRY_AFTER_SECONDS = 5


def handle_database_unavailable(error: DBAPIError):
    """Connection-level database failures answer 503 so clients retry; nothing is half-written."""
    if isinstance(error, OperationalError) or error.connection_invalidated:
        release_session()
        log.warning("database unavailable: %s", type(error.orig).__name__)
        abort(
            503,
            message="The database is unavailable; retry shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    raise error


def release_session() -> None:
    """Roll the request's session back, or drop its connection if that died (no I/O then).

    A connection that PgBouncer or PostgreSQL closed mid-request cannot run ROLLBACK; the server
    has rolled the transaction back already, so the connection is invalidated instead.
    """
    try:
        db.session.rollback()
    except DBAPIError as error:
        log.warning("rollback failed, connection dropped: %s", type(error.orig).__name__)
        db.session().invalidate()  # scoped_session does not proxy it


def close_session(_exception: BaseException | None) -> None:
    """At teardown: a connection lost after the response was built must not turn it into a 500.

    Flask-SQLAlchemy's own teardown (registered earlier, so it runs after this one) then finds
    the session closed. A request that never used the session (most authenticated reads, which
    go through backend/fastpath.py, and /health) has none to close: asking the scoped session to
    close would first build one.
    """
    if not db.session.registry.has():
        return
    try:
        db.session.close()  # closing, not rolling back: loaded objects keep their values
    except DBAPIError as error:
        log.warning("closing the session failed, connection dropped: %s", type(error.orig).__name__)
        db.session().invalidate()
