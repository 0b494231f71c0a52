"""One-time codes: 6 random digits, stored as an HMAC, 10 minutes, single use, 5 guesses."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from backend import clock
from backend.extensions import db
from backend.models import OneTimeCode, User

CODE_LIFETIME = timedelta(minutes=10)  # OWASP ASVS 2.5.x / 2.7.x
MAX_FAILED_ATTEMPTS = 5


def _digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def issue_code(user: User, purpose: str) -> str:
    """A fresh code for `user` and `purpose`, replacing any earlier one; the caller commits."""
    code = f"{secrets.randbelow(10**6):06d}"
    row = db.session.scalar(
        select(OneTimeCode).where(OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose)
    )
    if row is None:
        row = OneTimeCode(user_id=user.id, purpose=purpose)
        db.session.add(row)
    row.code_hash = _digest(code)
    row.failed_attempts = 0
    row.used_at = None
    row.created_at = clock.utcnow()
    row.expires_at = row.created_at + CODE_LIFETIME
    return code


def check_code(user: User | None, purpose: str, code: str, *, consume: bool) -> bool:
    """True when `code` is the live code; a wrong guess counts, `consume` uses the code up.

    Both steps are conditional UPDATEs, so concurrent guesses can neither exceed the guess
    limit nor use one code twice. A wrong guess is committed at once; a consumed code is
    committed by the caller together with what the code was for (one transaction).
    """
    if user is None:
        return False
    now = clock.utcnow()
    live = (
        OneTimeCode.user_id == user.id,
        OneTimeCode.purpose == purpose,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
        OneTimeCode.failed_attempts < MAX_FAILED_ATTEMPTS,
    )
    stored = db.session.scalar(select(OneTimeCode.code_hash).where(*live))
    if stored is None:
        return False
    if not hmac.compare_digest(stored, _digest(code)):
        db.session.execute(
            update(OneTimeCode).where(*live).values(failed_attempts=OneTimeCode.failed_attempts + 1)
        )
        db.session.commit()
        return False
    if consume:
        used = db.session.execute(
            update(OneTimeCode).where(*live, OneTimeCode.code_hash == stored).values(used_at=now)
        )
        return used.rowcount == 1
    return True
