"""The two reads on the hot paths: the caller behind a token, and the account signing in.

Both run outside the session's transaction (backend/fastpath.py): one round trip each.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, select

from backend import fastpath
from backend.models import SignInSession, User
from backend.validation import normalise_email

USERS, SESSIONS = User.__table__, SignInSession.__table__
# Everything a view reads from the caller (with `mfa_enabled`, for the staff gate); the password
# hash and the TOTP secret and step are loaded only where they are checked.
NOT_READ = {"password_hash", "deleted_at", "mfa_secret", "mfa_last_step"}
CALLER_COLUMNS = [column for column in USERS.c if column.key not in NOT_READ]
CALLER_KEYS = [*(column.key for column in CALLER_COLUMNS), "session_id", "session_seen_at"]
ACCOUNT_KEYS = ["id", "password_hash", "token_version", "mfa_enabled"]

# The account (open, by primary key) and the live session of this jti (by its unique index):
# no row when either is missing, so an ended session is refused by every worker at once.
CALLER = (
    select(
        *CALLER_COLUMNS,
        SESSIONS.c.id.label("session_id"),
        SESSIONS.c.last_seen_at.label("session_seen_at"),
    )
    .join(
        SESSIONS,
        and_(
            SESSIONS.c.jti == bindparam("jti"),
            SESSIONS.c.user_id == USERS.c.id,
            SESSIONS.c.ended_at.is_(None),
        ),
    )
    .where(USERS.c.id == bindparam("user_id"), USERS.c.deleted_at.is_(None))
)
# What a sign-in needs of the open account with this (normalised) email.
ACCOUNT = select(*(USERS.c[key] for key in ACCOUNT_KEYS)).where(
    USERS.c.email == bindparam("email"), USERS.c.deleted_at.is_(None)
)


def look_up_caller(user_id: int, jti: str) -> dict | None:
    """The caller's columns, `session_id` and `session_seen_at`; None unless the account is
    open and the session of `jti` is its own and live."""
    values = fastpath.first_row(CALLER, {"jti": jti, "user_id": user_id})
    return None if values is None else dict(zip(CALLER_KEYS, values, strict=True))


def look_up_account(email: str) -> dict | None:
    """`id`, `password_hash`, `token_version` and `mfa_enabled` of the open account, or None."""
    values = fastpath.first_row(ACCOUNT, {"email": normalise_email(email)})
    return None if values is None else dict(zip(ACCOUNT_KEYS, values, strict=True))
