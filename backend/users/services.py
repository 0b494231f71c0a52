"""Queries over accounts."""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import func, or_, select

from backend.api import page_of
from backend.audit.services import record
from backend.auth.services import require_password
from backend.extensions import db
from backend.models import User


def _contains(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(q: str | None, page: int, page_size: int) -> tuple[list[User], int]:
    """One page of accounts whose name, email or NID contains `q`, oldest first, and the total."""
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        pattern = _contains(q)
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                User.nid.like(pattern, escape="\\"),
            )
        )
    return page_of(query.order_by(User.id), page, page_size)


def update_profile(user: User, changes: dict) -> User:
    """Apply a profile change; a new phone number needs the password and unverifies the account."""
    current_password = changes.pop("current_password", None)
    born = changes.get("date_of_birth")
    if born is not None and user.date_of_birth not in (None, born):
        message = "Your date of birth is already set; a health officer can correct it."
        abort(422, message=message, errors={"json": {"date_of_birth": [message]}})
    if "phone_number" in changes and changes["phone_number"] != user.phone_number:
        if current_password is None:
            abort(
                422,
                message="Changing the phone number needs your current password.",
                errors={"json": {"current_password": ["Required to change phone_number."]}},
            )
        require_password(user, current_password)
        user.verified = False
    return apply_changes(user, changes, actor=user)


def apply_changes(user: User, changes: dict, *, actor: User) -> User:
    """Set the given profile fields and record which ones changed (never their values)."""
    if "address" in changes:
        changes["address"] = changes["address"] or None  # an empty address clears it
    for field, value in changes.items():
        setattr(user, field, value)
    record(
        "account.updated",
        actor_id=actor.id,
        subject_id=user.id,
        details={"fields": sorted(changes)},
    )
    db.session.commit()
    return user


def open_account(user_id: int) -> User:
    """The open account with this id, or 404."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404, message="No such user.")
    return user
