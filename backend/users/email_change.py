"""Changing an account's email: a code to the new address proves it, then the change is made.

The request answers the same whether or not another account has the new address (telling
them apart would let any signed-in person probe which emails are registered); a taken address
is refused when the code is confirmed, with a 409, also when two accounts confirm the same new
address at once (the unique constraint decides which one wins).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import notify
from backend.audit.services import record
from backend.auth.codes import check_code, issue_code, refuse_guess
from backend.auth.notices import mask_email, notify_security_event
from backend.auth.services import require_password
from backend.errors import EmailTaken, Invalid
from backend.extensions import db
from backend.models import CodePurpose, OneTimeCode, User
from backend.privacy.fields import index_of

PURPOSE = CodePurpose.EMAIL_CHANGE
TAKEN = "An account with this email already exists."


def request_email_change(user: User, new_email: str, password: str) -> None:
    """Send a code for changing to `new_email` (already normalised) to that address.

    A new request replaces the account's earlier code, and with it the address it was for.
    """
    require_password(user, password)
    if new_email == user.email:
        raise Invalid("new_email", "This is already your email address.")
    code = issue_code(user, PURPOSE, target=new_email)
    record("email_change.requested", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    notify.send(
        email=new_email,
        phone=None,
        subject="Confirm your new email address",
        text=f"Your code to confirm this address is {code}. It expires in 10 minutes.\n"
        "If you did not ask for it, ignore this message; no account will use this address.",
    )


def confirm_email_change(user: User, code: str) -> User:
    """Change the account's email to the address the live code `code` was sent to.

    Nothing else changes (the account stays as verified as it was; its sessions stay), and
    the old address (and a verified phone) is told. A taken address is a 409 that leaves the
    code unused.
    """
    if not check_code(user, PURPOSE, code, consume=True):
        refuse_guess(user, PURPOSE)
    new_email = db.session.scalar(
        select(OneTimeCode.target).where(
            OneTimeCode.user_id == user.id, OneTimeCode.purpose == PURPOSE
        )
    )
    old_email, user_id = user.email, user.id
    taken = select(User.id).where(
        User.email_index == index_of("email", new_email), User.id != user_id
    )
    if db.session.scalar(taken.limit(1)) is not None:
        _refuse_taken(user_id)
    user.email = new_email
    try:
        db.session.flush()  # another account confirming the same address first fails us here
    except IntegrityError:
        _refuse_taken(user_id)
    record("email.changed", actor_id=user_id, subject_id=user_id)
    db.session.commit()
    phone = user.phone_number if user.verified else None
    notify_security_event(
        user, "email_changed", email=old_email, phone=phone, new_email=mask_email(new_email)
    )
    return user


def _refuse_taken(user_id: int):
    """Undo the attempt (the code stays live), record it, and refuse it with a 409."""
    db.session.rollback()
    record("email_change.failed", subject_id=user_id, details={"reason": "taken"})
    db.session.commit()
    raise EmailTaken(TAKEN)
