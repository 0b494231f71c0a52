"""Sign-in sessions: one per access token, seen and ended by their owner (the new-client notice:
backend/auth/new_client.py).

A token is accepted only while its session row is live (backend/auth/lookups.py reads it with
the caller, in the same query), so ending a session takes effect on every worker and instance
at once. Rows stay HISTORY after sign-in, ended or not, so that a sign-in from a client (address
and user agent) the account has not used in that time is noticed; `prune` deletes older ones.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import bindparam, delete, exists, insert, select, update

from backend import clock, fastpath, notify
from backend.audit.services import record, recording_now
from backend.auth.new_client import HISTORY, RECENT, SAME_CLIENT, check_client
from backend.errors import NotYourRecord
from backend.extensions import db
from backend.models import SignInSession, User

SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
MAX_USER_AGENT = 255
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

SESSIONS = SignInSession.__table__
# Conditional, so workers that see the same stale time write it once between them.
TOUCH = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.last_seen_at < bindparam("cutoff"))
    .values(last_seen_at=bindparam("now"))
)
# A session starts with one read: did the account have a session from this client in HISTORY?
# Yes, the usual answer, settles the new-client check; only a first sign-in or a new client goes
# on to `check_client` after the commit (backend/auth/new_client.py), which sees concurrent
# sign-ins and their checks.
# On PostgreSQL the row's INSERT is a data-modifying CTE of that read (one round trip;
# the read's snapshot does not see the new row). SQLite has no such CTEs: it reads, then inserts.
ROW = ("user_id", "jti", "issued_at", "expires_at", "last_seen_at", "client_address", "user_agent")
NEW_ROW = insert(SESSIONS).values({key: bindparam(key) for key in ROW})
CLIENT_SEEN = select(exists().where(*RECENT, *SAME_CLIENT))
START = {
    "postgresql": (CLIENT_SEEN.add_cte(NEW_ROW.cte("new_session")),),
    "sqlite": (CLIENT_SEEN, NEW_ROW),
}


def start(
    user_id: int, issued_at: datetime, expires_at: datetime, details: dict | None = None
) -> str:
    """A new live session for the account; returns the `jti` its token must carry.

    The row and the sign-in's audit event (`sign_in.succeeded`, with `details`) commit together
    (backend/audit/services.py `recording_now`). A sign-in over HTTP from a client the account
    has not used in HISTORY also queues the new-client check.
    """
    jti = secrets.token_urlsafe(24)
    address, user_agent = client()
    row = {
        "user_id": user_id,
        "jti": jti,
        "issued_at": issued_at,
        "expires_at": expires_at,
        "last_seen_at": issued_at,
        "client_address": address,
        "user_agent": user_agent,
        "since": issued_at - HISTORY,
    }
    audited = {"actor_id": user_id, "subject_id": user_id, "details": details}
    with recording_now("sign_in.succeeded", **audited) as connection:
        seen_read, *then = START[connection.dialect.name]
        client_seen = connection.execute(seen_read, row).scalar()
        for statement in then:
            connection.execute(statement, row)
    if has_request_context() and not client_seen:
        notify.later(check_client, user_id, jti)
    return jti


def client() -> tuple[str | None, str | None]:
    """The request's client address and user agent (printable, at most 255 characters)."""
    if not has_request_context():
        return None, None
    user_agent = CONTROL_CHARACTERS.sub("", request.user_agent.string)[:MAX_USER_AGENT]
    return request.remote_addr, user_agent or None


def touch(session_id: int, last_seen_at: datetime) -> None:
    """Move the session's last-seen time to now, if it is more than SEEN_EVERY old."""
    now = clock.utcnow()
    if now - last_seen_at >= SEEN_EVERY:
        fastpath.execute(TOUCH, {"session_id": session_id, "cutoff": now - SEEN_EVERY, "now": now})


def live(user_id: int, current_session_id: int | None = None) -> list[SignInSession]:
    """The account's sessions whose tokens are accepted now, newest first; `current` marks the
    one making the request."""
    query = select(SignInSession).where(
        SignInSession.user_id == user_id,
        SignInSession.ended_at.is_(None),
        SignInSession.expires_at > clock.utcnow(),
    )
    found = list(db.session.scalars(query.order_by(SignInSession.issued_at.desc())))
    for session in found:
        session.current = session.id == current_session_id
    return found


def _end(user_id: int, *conditions) -> int:
    """End the account's live sessions that match `conditions`; the caller commits."""
    ended = db.session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user_id, SignInSession.ended_at.is_(None), *conditions)
        .values(ended_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount


def end_all(user_id: int, *, keep_jti: str | None = None) -> int:
    """End every session of the account (but `keep_jti`'s); the caller commits."""
    return _end(user_id, *([SignInSession.jti != keep_jti] if keep_jti else []))


def sign_out(user_id: int, session_id: int) -> None:
    """End the caller's own session (the token it presented)."""
    _end(user_id, SignInSession.id == session_id)
    record("sign_out", actor_id=user_id, subject_id=user_id)
    db.session.commit()


def end_one(user_id: int, session_id: int) -> None:
    """End one live session of the account; 404 for anyone else's, or one already over."""
    if not _end(user_id, SignInSession.id == session_id, SignInSession.expires_at > clock.utcnow()):
        raise NotYourRecord("No such session.")
    record("session.ended", actor_id=user_id, subject_id=user_id, details={"session": session_id})
    db.session.commit()


def end_others(user_id: int, current_session_id: int) -> int:
    """End every session of the account but the caller's; returns how many were live."""
    ended = _end(user_id, SignInSession.id != current_session_id)
    record("sign_out.others", actor_id=user_id, subject_id=user_id, details={"ended": ended})
    db.session.commit()
    return ended


def end_all_by_admin(user: User, *, admin_id: int) -> int:
    """An admin ends every session of `user` (the admin's own too, if it is theirs)."""
    ended = end_all(user.id)
    record(
        "sessions.ended_by_admin", actor_id=admin_id, subject_id=user.id, details={"ended": ended}
    )
    db.session.commit()
    return ended


def prune() -> int:
    """Delete sessions signed in more than HISTORY ago whose tokens have expired; the count."""
    now = clock.utcnow()
    pruned = db.session.execute(
        delete(SignInSession).where(
            SignInSession.expires_at < now, SignInSession.issued_at < now - HISTORY
        )
    )
    db.session.commit()
    return pruned.rowcount
