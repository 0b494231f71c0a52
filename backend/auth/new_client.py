"""The new-client notice: a sign-in from a client (address and user agent) the account has not
used in HISTORY is told to its owner once, also when sign-ins run at the same time.

The check is a background job: if it fails (a database outage, a worker killed first), the
failure is logged and that sign-in goes unnoticed; it is never sent twice.

`start` (backend/auth/sessions.py) settles the usual case in its own transaction: a client the
account used in HISTORY is known. Only a first sign-in or a new client reaches `check_client`,
in the background after the sign-in's commit.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, update

from backend.audit.services import record
from backend.auth.notices import notify_security_event
from backend.extensions import db
from backend.models import SignInSession, User

HISTORY = timedelta(days=90)
SESSIONS, USERS = SignInSession.__table__, User.__table__
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
# The new-client check after the commit, in one transaction per session, one account at a time.
# It first takes a lock only these checks take: on PostgreSQL a transaction-scoped advisory lock
# on (NOTICE_LOCKS, account id) — a row lock on the account would deadlock with requests that
# append to the audit trail before writing the account (profile edits, two-factor changes), as
# this check appends after its lock —, and on SQLite a write, which takes the database's one
# write lock (a SELECT would not: pysqlite begins a transaction only at the first write). Under
# PostgreSQL's default READ COMMITTED, each statement after the lock sees what the previous
# holder committed. Then it reads the new session with its account's creation time (no row once
# the account is closed) and its own finding (a check that already ran does nothing),
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
NOTICE_LOCKS = 1017  # the advisory locks' first key: no other lock in the app uses it
LOCK_ACCOUNT = {
    "postgresql": select(func.pg_advisory_xact_lock(NOTICE_LOCKS, bindparam("account_id"))),
    # A write that changes nothing. Its only parameter is named like no column of `sessions`:
    # a parameter named like one ("jti", "user_id") would be added to the UPDATE's SET list.
    "sqlite": update(SESSIONS)
    .where(SESSIONS.c.jti == bindparam("session_jti"))
    .values(new_client=SESSIONS.c.new_client),
}
NEW_SESSION = (
    select(
        SESSIONS.c.id,
        SESSIONS.c.new_client,
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
    connection.execute(lock, {"account_id": user_id} if lock.is_select else {"session_jti": jti})
    new = connection.execute(NEW_SESSION, {"jti": jti, "user_id": user_id}).first()
    if new is None or new.new_client is not None:  # account closed, or checked already
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
