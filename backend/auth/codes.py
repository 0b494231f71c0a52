"""One-time codes: 6 random digits, stored as an HMAC, 10 minutes, single use, 5 guesses."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import NoReturn

from flask import current_app
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from backend import clock
from backend.audit.services import record
from backend.errors import InvalidCode
from backend.extensions import db
from backend.models import OneTimeCode, User

CODE_LIFETIME = timedelta(minutes=10)  # OWASP ASVS 2.5.x / 2.7.x
MAX_FAILED_ATTEMPTS = 5
CODES = OneTimeCode.__table__
INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def issue_code(user: User, purpose: str, *, target: str | None = None) -> str:
    """A fresh code for `user` and `purpose` (bound to `target`, if given), replacing any
    earlier one; the caller commits.

    One upsert, so two requests for the same account at once cannot both insert a row.
    """
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.utcnow()
    fresh = {
        "code_hash": _digest(code),
        "failed_attempts": 0,
        "used_at": None,
        "created_at": now,
        "expires_at": now + CODE_LIFETIME,
        "target": target,
    }
    insert = INSERT[db.session.get_bind().dialect.name](CODES)
    db.session.execute(
        insert.values(user_id=user.id, purpose=purpose, **fresh).on_conflict_do_update(
            index_elements=[CODES.c.user_id, CODES.c.purpose], set_=fresh
        )
    )
    return code


def check_code(user: User | None, purpose: str, code: str, *, consume: bool) -> bool:
    """True when `code` is the live code; every guess is counted before it is compared.

    The count is one conditional UPDATE ... RETURNING: it locks the row until the caller's
    commit, so concurrent guesses on any worker line up and the 5th is the last ever compared.
    A right guess gets its count back (and, with `consume`, uses the code up) in the same
    transaction. The caller commits either way (a wrong guess must stay counted).
    """
    if user is None:
        return False
    now = clock.utcnow()
    counted = db.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.user_id == user.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
            OneTimeCode.failed_attempts < MAX_FAILED_ATTEMPTS,
        )
        .values(failed_attempts=OneTimeCode.failed_attempts + 1)
        .returning(OneTimeCode.id, OneTimeCode.code_hash)
    ).first()
    if counted is None or not hmac.compare_digest(counted.code_hash, _digest(code)):
        return False
    given_back = {"failed_attempts": OneTimeCode.failed_attempts - 1}
    if consume:
        given_back["used_at"] = now
    db.session.execute(update(OneTimeCode).where(OneTimeCode.id == counted.id).values(**given_back))
    return True


def refuse_guess(user: User | None, purpose: str) -> NoReturn:
    """Record a failed code guess (never the code), commit it with its count, and answer 400."""
    record("code.guess_failed", subject_id=user.id if user else None, details={"purpose": purpose})
    db.session.commit()
    raise InvalidCode("The code is wrong, used or has expired.")
