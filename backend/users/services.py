"""Queries over accounts."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from backend.api import page_of
from backend.audit.services import record
from backend.auth.notices import notify_security_event
from backend.auth.services import require_password
from backend.errors import Invalid, NotFound
from backend.extensions import db
from backend.models import User
from backend.privacy.fields import index_of


def _contains(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(q: str | None, page: int, page_size: int) -> tuple[list[User], int]:
    """One page of accounts whose name contains `q`, or whose whole email, NID or phone is `q`
    (any form registration accepts), oldest first, and the total."""
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        # Those three are encrypted: only their blind indexes can be compared, exactly.
        query = query.where(
            or_(
                func.lower(User.name).like(_contains(q), escape="\\"),
                User.email_index == index_of("email", q),
                User.nid_index == index_of("nid", q),
                User.phone_index == index_of("phone", q),
            )
        )
    return page_of(query.order_by(User.id), page, page_size)


# A contact a reset code may be sent to: a new one is trusted only once its owner confirms a code.
CONTACT_FIELDS = ("email", "phone_number")


def update_profile(user: User, changes: dict) -> User:
    """Apply a profile change; a new phone number needs the current password."""
    current_password = changes.pop("current_password", None)
    born = changes.get("date_of_birth")
    if born is not None and user.date_of_birth not in (None, born):
        message = "Your date of birth is already set; a health officer can correct it."
        raise Invalid("date_of_birth", message)
    if "phone_number" in changes and changes["phone_number"] != user.phone_number:
        if current_password is None:
            raise Invalid(
                "current_password",
                "Changing the phone number needs your current password.",
                field_message="Required to change phone_number.",
            )
        require_password(user, current_password)
    return apply_changes(user, changes, actor=user)


def apply_changes(user: User, changes: dict, *, actor: User) -> User:
    """Set the given profile fields and record which ones changed (never their values).

    Any new email or phone number, whoever sets it (even an admin in the same request as
    `verified`), unverifies the account: reset codes go by SMS only to a verified phone.
    A new phone number is notified to the email and to the old phone, if it was verified.
    """
    if "address" in changes:
        changes["address"] = changes["address"] or None  # an empty address clears it
    new_contact = any(
        field in changes and changes[field] != getattr(user, field) for field in CONTACT_FIELDS
    )
    new_phone = "phone_number" in changes and changes["phone_number"] != user.phone_number
    old_phone = user.phone_number if user.verified else None
    for field, value in changes.items():
        setattr(user, field, value)
    if new_contact:
        user.verified = False
    record(
        "account.updated",
        actor_id=actor.id,
        subject_id=user.id,
        details={"fields": sorted(changes)},
    )
    db.session.commit()
    if new_phone:
        notify_security_event(user, "phone_changed", email=user.email, phone=old_phone)
    return user


def open_account(user_id: int) -> User:
    """The open account with this id, or 404."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("No such user.")
    return user
