"""Two-factor sign-in (TOTP): enrol, confirm, turn off, and the second step of a sign-in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from backend import clock
from backend.audit.services import record
from backend.auth import totp
from backend.auth.notices import notify_security_event
from backend.auth.services import find_account, require_password
from backend.errors import InvalidCode
from backend.errors import StateConflict as Conflict
from backend.extensions import db
from backend.models import MfaChallenge, RecoveryCode, User

CHALLENGE_LIFETIME = timedelta(minutes=5)


def start_enrolment(user: User, password: str) -> dict:
    """A new (not yet active) TOTP secret for `user`, its otpauth URI and QR code."""
    require_password(user, password)
    if user.mfa_enabled:
        raise Conflict("Two-factor sign-in is already on; turn it off first.")
    secret = totp.new_secret()
    user.mfa_secret = totp.seal(secret, user.id)
    user.mfa_last_step = None
    record("mfa.enrolment_started", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    uri, qr_png = totp.provisioning(secret, user.email)
    return {"secret": secret, "otpauth_uri": uri, "qr_png_base64": qr_png}


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn two-factor on with a first code from the app; returns the new recovery codes."""
    if user.mfa_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if user.mfa_secret is None:
        raise Conflict("Start the enrolment first (POST /users/me/mfa/totp).")
    code = totp.normalise(code)
    step = totp.matching_step(totp.unseal(user.mfa_secret, user.id), code, clock.utcnow())
    if step is None:
        refuse(user.id, "mfa.confirm_failed")
    turned_on = db.session.execute(  # one of two confirmations at once, never both
        update(User)
        .where(User.id == user.id, User.mfa_enabled.is_(False), User.mfa_secret == user.mfa_secret)
        .values(mfa_enabled=True, mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if turned_on.rowcount != 1:
        db.session.rollback()
        raise Conflict("Two-factor sign-in was turned on or restarted meanwhile.")
    codes = replace_recovery_codes(user.id)
    record("mfa.enabled", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    notify_security_event(user, "mfa_enabled")
    return codes


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor off, with the password and a current code (or a recovery code)."""
    require_password(user, password)
    if not user.mfa_enabled:
        raise Conflict("Two-factor sign-in is not on.")
    method = accept_second_factor(user.id, user.mfa_secret, code)
    if method is None:
        refuse(user.id, "mfa.disable_failed")
    clear(user)
    record("mfa.disabled", actor_id=user.id, subject_id=user.id, details={"with": method})
    db.session.commit()
    notify_security_event(user, "mfa_disabled")  # one notice, even when a recovery code did it


def clear(user: User) -> None:
    """Two-factor off for `user`, secret and recovery codes gone; the caller commits."""
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset(email: str) -> User | None:
    """Turn two-factor off for a locked-out account (the command line's reset-mfa), audited."""
    user = find_account(email)
    if user is None:
        return None
    clear(user)
    record("mfa.reset", subject_id=user.id, details={"via": "cli"})
    db.session.commit()
    notify_security_event(user, "mfa_disabled")
    return user


def refuse(user_id: int, event: str):
    """Record a wrong code (never the code itself), commit that alone, and refuse it."""
    db.session.rollback()
    record(event, subject_id=user_id)
    db.session.commit()
    raise InvalidCode("The code is wrong or has already been used.")


def replace_recovery_codes(user_id: int) -> list[str]:
    """Ten new recovery codes for the account (earlier ones die); the caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = totp.new_recovery_codes()
    for code in codes:
        salt = secrets.token_hex(8)
        db.session.add(
            RecoveryCode(user_id=user_id, salt=salt, code_hash=totp.recovery_hash(salt, code))
        )
    return codes


def accept_second_factor(user_id: int, sealed_secret: str, code: str) -> str | None:
    """ "totp" or "recovery_code" when `code` is one, now spent; else None. The caller commits.

    A TOTP code is accepted only for a time step later than the last one accepted, and a
    recovery code only while unused: both by a conditional UPDATE, so that of two requests
    with the same code at once, one wins.
    """
    code = totp.normalise(code)
    if totp.TOTP_FORMAT.fullmatch(code):
        step = totp.matching_step(totp.unseal(sealed_secret, user_id), code, clock.utcnow())
        return "totp" if step is not None and _advance(user_id, step) else None
    return "recovery_code" if _use_recovery_code(user_id, code) else None


def _advance(user_id: int, step: int) -> bool:
    later = or_(User.mfa_last_step.is_(None), User.mfa_last_step < step)
    advanced = db.session.execute(
        update(User)
        .where(User.id == user_id, later)
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return advanced.rowcount == 1


def _use_recovery_code(user_id: int, code: str) -> bool:
    unused = db.session.execute(
        select(RecoveryCode.id, RecoveryCode.salt, RecoveryCode.code_hash).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in unused:
        if secrets.compare_digest(totp.recovery_hash(row.salt, code), row.code_hash):
            used = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=clock.utcnow())
                .execution_options(synchronize_session=False)
            )
            return used.rowcount == 1
    return False


def _token_hash(mfa_token: str) -> str:
    return hashlib.sha256(mfa_token.encode()).hexdigest()


def begin_sign_in(user_id: int) -> str:
    """An `mfa_token` for the account whose password was just accepted: 5 minutes, once."""
    mfa_token = secrets.token_urlsafe(32)
    expires_at = clock.utcnow() + CHALLENGE_LIFETIME
    db.session.add(
        MfaChallenge(token_hash=_token_hash(mfa_token), user_id=user_id, expires_at=expires_at)
    )
    db.session.commit()
    return mfa_token


def challenged_email(mfa_token: str) -> str | None:
    """The email of the account an `mfa_token` was issued to (live or not), or None."""
    return db.session.scalar(
        select(User.email)
        .join(MfaChallenge, MfaChallenge.user_id == User.id)
        .where(MfaChallenge.token_hash == _token_hash(mfa_token))
    )


def complete_sign_in(mfa_token: str, code: str) -> dict | None:
    """`id`, `token_version` and `second_factor` (the method) of the account when `mfa_token`
    is live and `code` is a fresh TOTP or an unused recovery code; else None (a wrong code is
    recorded, the token lives on). The sign-in is recorded when its session starts.
    """
    now = clock.utcnow()
    token_hash = _token_hash(mfa_token)
    consumed = db.session.execute(
        update(MfaChallenge)
        .where(
            MfaChallenge.token_hash == token_hash,
            MfaChallenge.used_at.is_(None),
            MfaChallenge.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    account = db.session.execute(
        select(User.id, User.token_version, User.mfa_secret)
        .join(MfaChallenge, MfaChallenge.user_id == User.id)
        .where(
            MfaChallenge.token_hash == token_hash,
            User.deleted_at.is_(None),
            User.mfa_enabled.is_(True),
        )
    ).first()
    if consumed.rowcount != 1 or account is None:
        db.session.rollback()
        return None
    method = accept_second_factor(account.id, account.mfa_secret, code)
    if method is None:
        db.session.rollback()  # the mfa_token stays usable: a typo needs no new password
        record("sign_in.mfa_failed", subject_id=account.id)
        db.session.commit()
        return None
    if method == "recovery_code":
        record("mfa.recovery_code_used", actor_id=account.id, subject_id=account.id)
    db.session.commit()
    if method == "recovery_code":
        notify_security_event(db.session.get(User, account.id), "recovery_code_used")
    return {"id": account.id, "token_version": account.token_version, "second_factor": method}
