"""Account, sign-in and session rules, kept out of the views."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, or_, select

from backend import clock, notify
from backend.audit.services import record, record_now
from backend.auth import sessions
from backend.auth.codes import check_code, issue_code, refuse_guess
from backend.auth.lookups import look_up_account
from backend.auth.notices import notify_security_event
from backend.auth.passwords import hash_password, needs_rehash, verify_password
from backend.auth.policy import personal_problem
from backend.errors import BadRequest, Invalid, StateConflict
from backend.extensions import db
from backend.models import CodePurpose, Member, OneTimeCode, Role, User
from backend.models.user import WALK_IN_PASSWORD
from backend.privacy.fields import index_of


def create_account(
    *,
    password: str,
    role: Role,
    event: str = "account.registered",
    actor_id: int | None = None,
    details: dict | None = None,
    **fields,
) -> User:
    """Create an account (`actor_id`: who did, if not its owner); duplicates are settled by the
    unique constraints (409)."""
    if fields.get("nid") and nid_of_member(fields["nid"]):
        message = "Someone in the registry already has this national ID."
        raise StateConflict(message, field="nid")
    user = walk_in_with(fields.get("nid")) if role == Role.CITIZEN else None
    if user is not None:  # the person record of a walk-in: the account takes it over
        fields["date_of_birth"] = fields.get("date_of_birth") or user.date_of_birth
        details = {**(details or {}), "walk_in": True}
    else:
        user = User()
        db.session.add(user)
    for field, value in {
        **fields,
        "password_hash": hash_password(password),
        "role_id": role,
    }.items():
        setattr(user, field, value)
    db.session.flush()  # a duplicate email or NID fails here, before anything is recorded
    record(event, actor_id=actor_id or user.id, subject_id=user.id, details=details)
    db.session.commit()
    return user


def walk_in_with(nid: str | None) -> User | None:
    """The person record a vaccinator filed for a walk-in with this NID, if any."""
    if not nid:
        return None
    query = select(User).where(
        User.nid_index == index_of("nid", nid), User.password_hash == WALK_IN_PASSWORD
    )
    return db.session.scalars(query.with_for_update()).first()


def nid_of_member(nid: str) -> bool:
    """Whether a family member already holds `nid` (NIDs are unique across the registry)."""
    query = select(Member.id).where(Member.nid_index == index_of("nid", nid)).limit(1)
    return db.session.scalar(query) is not None


def register_citizen(
    *,
    name: str,
    email: str,
    password: str,
    nid: str,
    phone_number: str,
    address: str | None = None,
    date_of_birth: date | None = None,
    **_ignored,
) -> User:
    """A citizen's own account, unverified until a code confirms its contact details."""
    return create_account(
        name=name,
        email=email,
        password=password,
        role=Role.CITIZEN,
        nid=nid,
        phone_number=phone_number,
        address=address or None,
        date_of_birth=date_of_birth,
        verified=False,
    )


def create_admin(**fields) -> User:
    """A health-officer (admin) account, as the command line creates it."""
    return create_account(role=Role.ADMIN, verified=True, **fields)


def find_account(email: str) -> User | None:
    """The open account with this email (letter case and Unicode look-alikes ignored), if any."""
    return db.session.scalars(
        select(User).where(User.email_index == index_of("email", email), User.deleted_at.is_(None))
    ).first()


def check_credentials(email: str, password: str) -> dict | None:
    """The account (`id`, `password_hash`, `token_version`, `mfa_enabled`) these credentials
    open, or None.

    Always costs one hash verification. The account is read before any transaction (one
    autocommit lookup); a refusal, and a password accepted pending its second factor, are
    appended to the audit trail in a transaction of their own that does not wait for the WAL
    flush: sign-ins are frequent and their events low-stakes (see `record_now`). A success is
    recorded when its session starts (backend/auth/sessions.py).
    """
    account = look_up_account(email)
    if not verify_password(account["password_hash"] if account else None, password):
        subject_id = account["id"] if account else None
        record_now("sign_in.failed", subject_id=subject_id)
        return None
    if needs_rehash(account["password_hash"]):
        user = db.session.get(User, account["id"])
        if user is not None:
            user.password_hash = hash_password(password)
            db.session.commit()
    if account["mfa_enabled"]:
        # The sign-in succeeds only with the code (backend/auth/mfa.py).
        record_now("sign_in.password_accepted", actor_id=account["id"], subject_id=account["id"])
    return account


def revoke_all_tokens(user: User, *, keep_jti: str | None = None) -> None:
    """Every token issued to `user` so far stops working (except `keep_jti`); caller commits.

    Their sessions are ended too, so the account's list of sessions shows only live ones.
    """
    user.token_version += 1
    user.kept_jti = keep_jti
    sessions.end_all(user.id, keep_jti=keep_jti)


def require_password(user: User, password: str) -> None:
    """400 unless `password` is the account's current password."""
    if not verify_password(user.password_hash, password):
        raise BadRequest("The current password is incorrect.")


def refuse_personal_password(user: User, password: str, field: str) -> None:
    """422 when the new password contains the account's email name or national ID."""
    problem = personal_problem(password, email=user.email, nid=user.nid)
    if problem:
        raise Invalid(field, problem)


def change_password(user: User, current_password: str, new_password: str, jti: str) -> None:
    """Set a new password; every other session of the account is signed out."""
    require_password(user, current_password)  # proved first: the policy names the account's NID
    refuse_personal_password(user, new_password, "new_password")
    user.password_hash = hash_password(new_password)
    revoke_all_tokens(user, keep_jti=jti)
    record("password.changed", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    notify_security_event(user, "password_changed")


def request_contact_verification(user: User) -> None:
    """Send a verification code to the account's email and phone."""
    code = issue_code(user, CodePurpose.VERIFY_CONTACT)
    record("verification.requested", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    notify.send(
        email=user.email,
        phone=user.phone_number,
        subject="Confirm your contact details",
        text=f"Your verification code is {code}. It expires in 10 minutes.",
    )


def confirm_contact(user: User, code: str) -> None:
    """Mark the account verified with a code sent by request_contact_verification."""
    if not check_code(user, CodePurpose.VERIFY_CONTACT, code, consume=True):
        refuse_guess(user, CodePurpose.VERIFY_CONTACT)
    user.verified = True
    record("account.verified", actor_id=user.id, subject_id=user.id)
    db.session.commit()


def close_account(user: User, *, actor: User) -> None:
    """Close an account: no more sign-in, every token dies, contact details are erased.

    The person's name and national ID stay, with their vaccination records, because a health
    registry must not lose who was vaccinated; the NID therefore stays taken. The notice goes
    to the contact details the account had.
    """
    email, phone = user.email, user.phone_number if user.verified else None
    user.deleted_at = clock.utcnow()
    user.email = f"closed-{user.id}@accounts.invalid"
    user.phone_number = None
    user.address = None
    user.password_hash = "!closed"
    user.verified = False
    revoke_all_tokens(user)
    record("account.closed", actor_id=actor.id, subject_id=user.id)
    db.session.commit()
    notify_security_event(user, "account_closed", email=email, phone=phone)


def prune_expired() -> tuple[int, int]:
    """Delete sessions past their history window (backend/auth/sessions.py) and dead codes;
    returns both counts."""
    now = clock.utcnow()
    pruned_sessions = sessions.prune()
    codes = db.session.execute(
        delete(OneTimeCode).where(
            or_(OneTimeCode.expires_at < now, OneTimeCode.used_at.is_not(None))
        )
    )
    db.session.commit()
    return pruned_sessions, codes.rowcount
