"""Booking, rescheduling and cancelling appointments; each booked one is the dose's registration."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from backend import clock
from backend.api import page_of
from backend.appointments import places
from backend.appointments.eligibility import (
    bookable_session,
    check_age,
    check_verified,
    next_dose,
    person_for,
)
from backend.audit.services import record
from backend.errors import NotFound, SessionFull, StateConflict
from backend.extensions import db
from backend.models import (
    Appointment,
    AppointmentStatus,
    Status,
    User,
    Vaccination,
    VaccinationSession,
)
from backend.vaccination.services import has_pending, invalid

MAX_RESCHEDULES = 3
APPOINTMENTS = Appointment.__table__


def new_code() -> str:
    """Four random digits, shown to the person and asked for at the center."""
    return f"{secrets.randbelow(10_000):04d}"


def book(holder: User, session_id: int, member_id: int | None) -> Appointment:
    """Book a place for the holder (or a member) in the session, or name the rule it breaks."""
    check_verified(holder)
    session = bookable_session(session_id)
    if session.booked >= session.capacity:  # a cheap early answer in a rush; places.take decides
        raise SessionFull("Every place in this session is booked; choose another session.")
    person = person_for(holder, member_id)
    check_age(person, session)
    if has_pending(person.user_id, person.member_id):
        raise StateConflict(
            f"{person.name} already has a live appointment or pending registration."
        )
    dose_number = next_dose(person, session)
    vaccination = Vaccination(
        user_id=holder.id,
        member_id=person.member_id,
        center_id=session.center_id,
        vaccine_id=session.vaccine_id,
        dose_number=dose_number,
        status=Status.PENDING,
        preferred_date=session.date,
    )
    appointment = Appointment(session=session, vaccination=vaccination, code=new_code())
    db.session.add(appointment)
    db.session.flush()  # a racing second booking for the same person fails here: 409
    places.take(session.id)  # last, so the session's row is locked only until the commit
    _record("appointment.booked", holder, appointment, session_id=session.id)
    db.session.commit()
    return appointment


def _own(holder: User, appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.vaccination.user_id != holder.id:
        raise NotFound("No such appointment.")
    return appointment


def _live(appointment: Appointment) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise StateConflict("This appointment was cancelled.")
    if appointment.vaccination.status != Status.PENDING:
        raise StateConflict(f"This dose was already {appointment.vaccination.status}.")


def reschedule(holder: User, appointment_id: int, session_id: int) -> Appointment:
    """Move a live appointment to another session (at most MAX_RESCHEDULES times)."""
    appointment = _own(holder, appointment_id)
    _live(appointment)
    if appointment.reschedules >= MAX_RESCHEDULES:
        invalid("session_id", f"An appointment can be rescheduled at most {MAX_RESCHEDULES} times.")
    if appointment.session_id == session_id:
        invalid("session_id", "The appointment is already in this session.")
    vaccination, old_session_id = appointment.vaccination, appointment.session_id
    session = bookable_session(session_id)
    person = person_for(holder, vaccination.member_id)
    check_age(person, session)
    if next_dose(person, session) != vaccination.dose_number:  # pragma: no cover - defensive
        invalid("session_id", "This session does not fit the booked dose.")
    # Both sessions' rows in id order, so two opposite reschedules cannot deadlock.
    for each in sorted((old_session_id, session_id)):
        if each == session_id:
            places.take(each)
        else:
            places.give_back(each)
    moved = db.session.execute(
        update(APPOINTMENTS)
        .where(
            APPOINTMENTS.c.id == appointment.id,
            APPOINTMENTS.c.status == AppointmentStatus.BOOKED,
            APPOINTMENTS.c.session_id == old_session_id,
            APPOINTMENTS.c.reschedules < MAX_RESCHEDULES,
        )
        .values(session_id=session_id, reschedules=APPOINTMENTS.c.reschedules + 1)
    )
    if moved.rowcount != 1:  # a racing reschedule or cancellation got there first
        db.session.rollback()
        raise StateConflict("The appointment changed meanwhile; reload it and try again.")
    vaccination.center_id, vaccination.vaccine_id = session.center_id, session.vaccine_id
    vaccination.preferred_date = session.date
    _record("appointment.rescheduled", holder, appointment, session_id=session_id)
    db.session.commit()
    db.session.refresh(appointment)
    return appointment


def cancel(holder: User, appointment_id: int) -> None:
    """Cancel a live appointment; its place goes back to the session at once."""
    appointment = _own(holder, appointment_id)
    if appointment.status == AppointmentStatus.CANCELLED:
        return
    _live(appointment)
    places.give_back(appointment.session_id)
    withdrawn = db.session.execute(
        update(Vaccination)
        .where(Vaccination.id == appointment.vaccination_id, Vaccination.status == Status.PENDING)
        .values(status=Status.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    closed = db.session.execute(
        update(APPOINTMENTS)
        .where(
            APPOINTMENTS.c.id == appointment.id,
            APPOINTMENTS.c.status == AppointmentStatus.BOOKED,
            APPOINTMENTS.c.session_id == appointment.session_id,
        )
        .values(status=AppointmentStatus.CANCELLED, cancelled_at=clock.utcnow())
    )
    if withdrawn.rowcount != 1 or closed.rowcount != 1:  # reviewed, moved or cancelled meanwhile
        db.session.rollback()
        raise StateConflict("The appointment changed meanwhile; reload it and try again.")
    _record("appointment.cancelled", holder, appointment, session_id=appointment.session_id)
    db.session.commit()


def _record(event: str, actor: User, appointment: Appointment, **details) -> None:
    vaccination = appointment.vaccination
    record(
        event,
        actor_id=actor.id,
        subject_type="appointment",
        subject_id=appointment.id,
        details={"user_id": vaccination.user_id, "member_id": vaccination.member_id, **details},
    )


# What AppointmentSchema shows of each row, in the list's one query.
WITH_DETAILS = (
    joinedload(Appointment.vaccination).joinedload(Vaccination.member),
    joinedload(Appointment.session).joinedload(VaccinationSession.center),
    joinedload(Appointment.session).joinedload(VaccinationSession.vaccine),
)


def mine(holder: User) -> list[Appointment]:
    """The holder's and their members' appointments, newest first."""
    query = (
        select(Appointment)
        .join(Appointment.vaccination)
        .where(Vaccination.user_id == holder.id)
        .order_by(Appointment.id.desc())
        .options(*WITH_DETAILS)
    )
    return list(db.session.scalars(query))


def of_session(session_id: int, page: int, page_size: int) -> tuple[list[Appointment], int]:
    """One page of a session's appointments in booking order (officers)."""
    query = (
        select(Appointment)
        .where(Appointment.session_id == session_id)
        .order_by(Appointment.id)
        .options(*WITH_DETAILS)
    )
    return page_of(query, page, page_size)
