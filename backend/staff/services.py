"""Creating, listing, changing and closing vaccinator accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from backend.api import page_of
from backend.audit.services import record
from backend.auth import services as auth_services
from backend.errors import NotFound
from backend.extensions import db
from backend.models import Center, Role, User
from backend.vaccination.services import invalid


def create_vaccinator(
    *, name: str, email: str, center_id: int, nid: str, password: str | None, actor: User | None
) -> User:
    """A vaccinator at an active center, carrying their own `nid`. Without a password nobody
    can sign in as them until they set one with the password reset flow (codes go to `email`)."""
    center = active_center(center_id)
    return auth_services.create_account(
        name=name,
        email=email,
        password=password or secrets.token_urlsafe(32),  # unknown to anyone: reset to use it
        role=Role.VACCINATOR,
        center_id=center.id,
        staff_nid=nid,
        verified=True,
        event="staff.created",
        actor_id=actor.id if actor else None,
        details={"center_id": center.id},
    )


def active_center(center_id: int) -> Center:
    """The active center with this id, or a 422 on `center_id`."""
    center = db.session.get(Center, center_id)
    if center is None or not center.active:
        invalid("center_id", "No such active vaccination center.")
    return center


# The API's names of what an admin may change, to the account's attributes.
CHANGEABLE = {"name": "name", "center_id": "center_id", "nid": "staff_nid"}


def update_vaccinator(user_id: int, changes: dict, *, actor: User) -> User:
    """Change a vaccinator's name, center (an active one) or staff NID, and record which.

    The staff NID follows POST /staff's rules: validated by the schema, and not unique (it may
    be that of the person's own citizen account or member record), so it is never a 409.
    Setting it is how a vaccinator created without one (before migration 0016) can record
    doses again. Their tokens stay valid: every request reads the account's row afresh.
    """
    user = open_vaccinator(user_id)
    if "center_id" in changes:
        active_center(changes["center_id"])
    for field, value in changes.items():
        setattr(user, CHANGEABLE[field], value)
    details = {"fields": sorted(changes)}  # never the values: no NID in the trail
    if "center_id" in changes:
        details["center_id"] = changes["center_id"]
    record("staff.updated", actor_id=actor.id, subject_id=user.id, details=details)
    db.session.commit()
    return user


def vaccinators(center_id: int | None, page: int, page_size: int) -> tuple[list[User], int]:
    """One page of open vaccinator accounts (of one center, if given), oldest first."""
    query = select(User).where(User.role_id == Role.VACCINATOR, User.deleted_at.is_(None))
    if center_id is not None:
        query = query.where(User.center_id == center_id)
    return page_of(query.order_by(User.id), page, page_size)


def open_vaccinator(user_id: int) -> User:
    """The open vaccinator account with this id, or 404."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.role_id != Role.VACCINATOR:
        raise NotFound("No such staff account.")
    return user


def close_vaccinator(user_id: int, *, actor: User) -> None:
    """Close a vaccinator's account: no more sign-in, every token dies; doses given stay."""
    auth_services.close_account(open_vaccinator(user_id), actor=actor)
