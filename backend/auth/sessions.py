"""Sign-in sessions: one per access token, seen and ended by their owner; the new-client notice.

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
from sqlalchemy import and_, bindparam, delete, exists, insert, or_, select, update

from backend import clock, fastpath, notify
from backend.audit.services import record, recording_now
from backend.auth.notices import notify_security_event
from backend.errors import NotYourRecord
from backend.extensions import db
from backend.models import SignInSession, User

HISTORY = timedelta(days=90)
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
MAX_USER_AGENT = 255
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

SESSIONS, USERS = SignInSession.__table__, User.__table__
# Conditional, so workers that see the same stale time write it once between them.
TOUCH = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.last_seen_at < bindparam("cutoff"))
    .values(last_seen_at=bindparam("now"))
)
RECENT = (
    SESSIONS.c.user_id == bindparam("user_id"),
    SESSIONS.c.issued_at >= bindparam("since", type_=SESSIONS.c.issued_at.type),
)
SAME_CLIENT = (
    SESSIONS.c.client_address.is_not_distinct_from(
        bindparam("client_address", type_=SESSIONS.c.client_address.type)
    ),
    SESSIONS.c.user_agent.is_not_distinct_from(
        bindparam("user_agent", type_=SESSIONS.c.user_agent.type)
    ),
)
# A session starts with one read: did the account have a session from this client in HISTORY?
# Yes, the usual answer, settles the new-client check; only a first sign-in or a new client goes
# on to `check_client` after the commit, which sees concurrent sign-ins and their checks (below).
# On PostgreSQL the row's INSERT is a data-modifying CTE of that read (one round trip;
# the read's snapshot does not see the new row). SQLite has no such CTEs: it reads, then inserts.
ROW = ("user_id", "jti", "issued_at", "expires_at", "last_seen_at", "client_address", "user_agent")
NEW_ROW = insert(SESSIONS).values({key: bindparam(key) for key in ROW})
CLIENT_SEEN = select(exists().where(*RECENT, *SAME_CLIENT))
START = {
    "postgresql": (CLIENT_SEEN.add_cte(NEW_ROW.cte("new_session")),),
    "sqlite": (CLIENT_SEEN, NEW_ROW),
}
# The new-client check after the commit, in one transaction per session, one account at a time.
# It first locks the account: FOR NO KEY UPDATE on PostgreSQL (a sign-in's foreign-key check,
# FOR KEY SHARE, does not wait for it), and on SQLite a write, which takes the database's one
# write lock (a SELECT would not: pysqlite begins a transaction only at the first write). Then it
# reads the new session with its account's creation time (no row once the account is closed),
# and whether any OTHER committed session of the account in HISTORY (a) came from the same
# client and is older (lower id) or was already found new ("first" or "noticed"), and (b) is
# older, or was found to be the account's first. It writes what it found on the new session
# and commits with the audit event before the lock is released; the message goes after.
#
# Why exactly once. The checks of an account run one after the other, each seeing every session
# committed before it and every earlier check's finding. Two sessions S < T (ids) from one new
# client: if both are committed when the first of their checks runs, S's check finds no older
# one and notices, T's finds S older; if T's check runs before S commits, T notices and marks
# itself, and S's check then finds T "noticed". Either way one notice. Two first sign-ins S < T
# of a young account from two clients: both committed, S's check is the first (T is younger and
# unmarked) and T's is preceded by S, whichever runs first; T checked before S commits finds
# nothing, marks itself "first", and S's check is preceded by that mark. Either way one first,
# one notice. The pre-check in `start` skips the check of a session only when a same-client
# session was committed at its start, hence has a lower id: the check would have found it older.
# Sessions from before the mark existed are older than every new one, and count by id.
FIRST, NOTICED = "first", "noticed"
LOCK_ACCOUNT = {
    "postgresql": select(USERS.c.id)
    .where(USERS.c.id == bindparam("user_id"))
    .with_for_update(key_share=True),
    "sqlite": update(SESSIONS)
    .where(SESSIONS.c.jti == bindparam("session_jti"))  # "jti" is reserved in an UPDATE
    .values(new_client=SESSIONS.c.new_client),
}
NEW_SESSION = (
    select(
        SESSIONS.c.id,
        SESSIONS.c.issued_at,
        SESSIONS.c.client_address,
        SESSIONS.c.user_agent,
        USERS.c.created_at,
    )
    .join(USERS, and_(USERS.c.id == bindparam("user_id"), USERS.c.deleted_at.is_(None)))
    .where(SESSIONS.c.jti == bindparam("jti"))
)
OTHERS = (*RECENT, SESSIONS.c.id != bindparam("new_id"))
OLDER = SESSIONS.c.id < bindparam("new_id")
CLIENT_KNOWN = exists().where(*OTHERS, *SAME_CLIENT, or_(OLDER, SESSIONS.c.new_client.is_not(None)))
PRECEDED = exists().where(*OTHERS, or_(OLDER, SESSIONS.c.new_client == FIRST))
FINDINGS = select(CLIENT_KNOWN, PRECEDED)
MARK = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("new_id"))
    .values(new_client=bindparam("found"))
)


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


def check_client(user_id: int, jti: str) -> None:
    """In the background after a sign-in whose client the account had not used in HISTORY
    (or its first): the notice, if its client is new to the account.

    New means no other session of the account in the last HISTORY came from the same address
    with the same user agent before it (see FINDINGS for "before"). The first sign-in of an
    account younger than HISTORY has nothing to compare with and is not noticed (the person has
    just registered or been given it); an account idle for longer is, since whoever signs in
    then may not be its owner.
    """
    connection = db.session.connection()
    lock = LOCK_ACCOUNT[connection.dialect.name]
    connection.execute(lock, {"user_id": user_id, "session_jti": jti})
    new = connection.execute(NEW_SESSION, {"jti": jti, "user_id": user_id}).first()
    if new is None:
        db.session.rollback()
        return
    since = new.issued_at - HISTORY
    client_known, preceded = connection.execute(
        FINDINGS,
        {
            "user_id": user_id,
            "since": since,
            "new_id": new.id,
            "client_address": new.client_address,
            "user_agent": new.user_agent,
        },
    ).first()
    if client_known:
        db.session.rollback()
        return
    first = new.created_at >= since and not preceded
    connection.execute(MARK, {"new_id": new.id, "found": FIRST if first else NOTICED})
    if first:
        db.session.commit()
        return
    notify_new_sign_in(db.session.get(User, user_id), new.client_address, new.user_agent)


def notify_new_sign_in(user: User, address: str | None, user_agent: str | None) -> None:
    """Tell the account's owner of a sign-in from a new client (email, SMS to a verified phone);
    audited. Names the client and the time, never a token or password. Its audit event commits
    with what the caller's transaction holds (the check's finding), before the message goes."""
    record(
        "sign_in.new_client",
        actor_id=user.id,
        subject_id=user.id,
        details={"client_address": address, "user_agent": user_agent},
    )
    db.session.commit()
    notify_security_event(
        user,
        "new_sign_in",
        address=address or "unknown",
        user_agent=user_agent or "an unknown browser or app",
    )
