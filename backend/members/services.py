"""Adding, changing and removing an account's family members, within MAX_MEMBERS."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import exists, func, select, update

from backend import clock
from backend.audit.services import record
from backend.errors import NotFound, StateConflict
from backend.extensions import db
from backend.models import Member, Status, User, Vaccination
from backend.privacy.fields import index_of
from backend.vaccination.services import invalid

NID_TAKEN = "Someone in the registry already has this national ID."


def members_of(holder: User) -> list[Member]:
    """The holder's members, oldest first."""
    query = select(Member).where(Member.user_id == holder.id, Member.deleted_at.is_(None))
    return list(db.session.scalars(query.order_by(Member.id)))


def get_member(holder: User, member_id: int) -> Member:
    """The holder's member, or 404 (someone else's look the same as none)."""
    member = db.session.get(Member, member_id)
    if member is None or member.user_id != holder.id or member.deleted_at is not None:
        raise NotFound("No such member.")
    return member


def open_member(member_id: int) -> Member:
    """Any account's member (not removed), for an admin; or 404."""
    member = db.session.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        raise NotFound("No such member.")
    return member


def _check_nid(nid: str) -> None:
    """409 if an account holds `nid`; members' own NIDs are settled by their unique constraint."""
    if db.session.scalar(select(exists().where(User.nid_index == index_of("nid", nid)))):
        raise StateConflict(NID_TAKEN, field="nid")


def add(holder: User, fields: dict) -> Member:
    """Add a member, at most MAX_MEMBERS per account; a NID already in the registry is a 409."""
    # Lock the holder's row first, so two adds at once cannot both pass the count.
    db.session.execute(
        update(User)
        .where(User.id == holder.id)
        .values(id=User.id)
        .execution_options(synchronize_session=False)
    )
    count = db.session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.user_id == holder.id, Member.deleted_at.is_(None))
    )
    limit = current_app.config["MAX_MEMBERS"]
    if count >= limit:
        invalid("members", f"An account can have at most {limit} members.")
    _check_nid(fields["nid"])
    member = Member(user_id=holder.id, **fields)
    db.session.add(member)
    db.session.flush()  # a NID another member holds fails here: 409
    _record("member.added", holder, member)
    db.session.commit()
    return member


def _has_records(member: Member) -> bool:
    return db.session.scalar(select(exists().where(Vaccination.member_id == member.id)))


def change(holder: User, member_id: int, fields: dict) -> Member:
    """Change a member's details; NID and date of birth are fixed once they have records."""
    member = get_member(holder, member_id)
    fixed = [name for name in ("nid", "date_of_birth") if name in fields]
    if fixed and _has_records(member):
        invalid(fixed[0], "Fixed once the member has registrations; a health officer corrects it.")
    if "nid" in fields and fields["nid"] != member.nid:
        _check_nid(fields["nid"])
    for name, value in fields.items():
        setattr(member, name, value)
    db.session.flush()
    _record("member.updated", holder, member, fields=sorted(fields))
    db.session.commit()
    return member


def remove(holder: User, member_id: int) -> None:
    """Remove a member; 409 while they have a live appointment or pending registration.

    A member with records is hidden, not deleted: the registry keeps them (and their NID).
    """
    member = get_member(holder, member_id)
    pending = exists().where(
        Vaccination.member_id == member.id, Vaccination.status == Status.PENDING
    )
    if db.session.scalar(select(pending)):
        raise StateConflict("Cancel this member's appointment or registration first.")
    _record("member.removed", holder, member)
    if _has_records(member):
        member.deleted_at = clock.utcnow()
    else:
        db.session.delete(member)
    db.session.commit()


def _record(event: str, holder: User, member: Member, **details) -> None:
    record(
        event,
        actor_id=holder.id,
        subject_type="member",
        subject_id=member.id,
        details={"user_id": holder.id, **details},
    )
