"""Everything held about the caller and their members, for `GET /users/me/export`.

Only rows tied to the caller's account: their members, the registrations, appointments, doses,
certificates and corrections of either, reminders sent to them, and the audit events whose
subject is one of those. Of other people nothing: an officer appears as a role, never by name,
and a client address only on events the caller made themselves.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from backend.appointments.services import mine as appointments_of
from backend.extensions import db
from backend.models import (
    Certificate,
    Correction,
    Member,
    Reminder,
    Role,
    Status,
    User,
    Vaccination,
)
from backend.models.audit import AuditEvent
from backend.vaccination.services import NEWEST_FIRST

EXPORTED_RELATIONS = (Vaccination.vaccine, Vaccination.center, Vaccination.certificate)
# Doses given (and still on record, if later revoked as entered in error).
GIVEN = (Status.APPROVED, Status.REVOKED)


def export_of(user: User) -> dict:
    """The caller's data: account, members, registrations, appointments, doses, certificates,
    corrections, reminders and the audit events about them."""
    members = _all(select(Member).where(Member.user_id == user.id).order_by(Member.id))
    vaccinations = _all(
        select(Vaccination)
        .where(Vaccination.user_id == user.id)
        .order_by(*NEWEST_FIRST)
        .options(*(selectinload(relation) for relation in EXPORTED_RELATIONS))
    )
    vaccination_ids = [vaccination.id for vaccination in vaccinations]
    appointments = appointments_of(user)
    corrections = _all(select(Correction).where(Correction.user_id == user.id))
    subjects = {
        "user": [user.id],
        "member": [member.id for member in members],
        "vaccination": vaccination_ids,
        "appointment": [appointment.id for appointment in appointments],
        "correction": [correction.id for correction in corrections],
    }
    return {
        "account": user,
        "members": members,
        "vaccinations": vaccinations,
        "appointments": appointments,
        "doses": [vaccination for vaccination in vaccinations if vaccination.status in GIVEN],
        "certificates": _all(
            select(Certificate)
            .where(Certificate.vaccination_id.in_(vaccination_ids))
            .order_by(Certificate.issued_at)
        ),
        "corrections": corrections,
        "reminders": _all(
            select(Reminder).where(Reminder.user_id == user.id).order_by(Reminder.id)
        ),
        "audit_events": _events_about(user, subjects),
    }


def _all(query) -> list:
    return list(db.session.scalars(query))


def _events_about(user: User, subjects: dict[str, list[int]]) -> list[dict]:
    """The audit events whose subject is the caller or their records, the actor as a role."""
    about = or_(
        *(
            and_(AuditEvent.subject_type == kind, AuditEvent.subject_id.in_(ids))
            for kind, ids in subjects.items()
            if ids
        )
    )
    events = _all(select(AuditEvent).where(about).order_by(AuditEvent.id))
    actors = {event.actor_id for event in events} - {None, user.id}
    roles = dict(db.session.execute(select(User.id, User.role_id).where(User.id.in_(actors))).all())
    return [
        {
            "id": event.id,
            "created_at": event.created_at,
            "event": event.event,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "actor": _actor(event.actor_id, user.id, roles),
            # An address is the caller's own only on what they did themselves.
            "client_address": event.client_address if event.actor_id == user.id else None,
            "details": event.details or {},
        }
        for event in events
    ]


def _actor(actor_id: int | None, user_id: int, roles: dict[int, int]) -> str:
    if actor_id is None:
        return "system"
    if actor_id == user_id:
        return "you"
    role = roles.get(actor_id)
    return Role(role).name.lower() if role is not None else "staff"
