"""The two reads on the hot paths: the caller behind a token, and the account signing in.

Both run outside the session's transaction (backend/fastpath.py): one round trip each.
"""

from __future__ import annotations

from sqlalchemy import Text, and_, bindparam, select, type_coerce

from backend import fastpath
from backend.models import SignInSession, User
from backend.privacy.fields import EncryptedText, index_of

USERS, SESSIONS = User.__table__, SignInSession.__table__
# Everything a view reads from the caller (with `mfa_enabled`, for the staff gate); the password
# hash, the TOTP secret and step and the blind indexes are loaded only where they are needed.
NOT_READ = {"password_hash", "deleted_at", "mfa_secret", "mfa_last_step"}
NOT_READ |= {"email_index", "nid_index", "phone_index"}
CALLER_COLUMNS = [column for column in USERS.c if column.key not in NOT_READ]
CALLER_KEYS = [*(column.key for column in CALLER_COLUMNS), "session_id", "session_seen_at"]
# The caller's encrypted columns are read as stored and decrypted only if the request reads them
# (GET /users/me does; most requests never do).
SEALED = {
    column.key: column.type for column in CALLER_COLUMNS if isinstance(column.type, EncryptedText)
}
ACCOUNT_KEYS = ["id", "password_hash", "token_version", "mfa_enabled"]

# The account (open, by primary key) and the live session of this jti (by its unique index):
# no row when either is missing, so an ended session is refused by every worker at once.
CALLER = (
    select(
        *(
            type_coerce(column, Text).label(column.key) if column.key in SEALED else column
            for column in CALLER_COLUMNS
        ),
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
# What a sign-in needs of the open account with this email (by its blind index).
ACCOUNT = select(*(USERS.c[key] for key in ACCOUNT_KEYS)).where(
    USERS.c.email_index == bindparam("email_index"), USERS.c.deleted_at.is_(None)
)


class Caller(dict):
    """The caller's columns by name; an encrypted one is decrypted when first read."""

    def __init__(self, values: dict):
        super().__init__({key: value for key, value in values.items() if key not in SEALED})
        self.sealed = {key: values[key] for key in SEALED}

    def __missing__(self, key: str):
        if key not in self.sealed:
            raise KeyError(key)
        value = self[key] = SEALED[key].process_result_value(self.sealed.pop(key), None)
        return value

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def look_up_caller(user_id: int, jti: str) -> Caller | None:
    """The caller's columns, `session_id` and `session_seen_at`; None unless the account is
    open and the session of `jti` is its own and live."""
    values = fastpath.first_row(CALLER, {"jti": jti, "user_id": user_id})
    return None if values is None else Caller(dict(zip(CALLER_KEYS, values, strict=True)))


def look_up_account(email: str) -> dict | None:
    """`id`, `password_hash`, `token_version` and `mfa_enabled` of the open account, or None."""
    values = fastpath.first_row(ACCOUNT, {"email_index": index_of("email", email)})
    return None if values is None else dict(zip(ACCOUNT_KEYS, values, strict=True))
