"""Sessions: publishing, changing and cancelling them (admin), and the public search."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NoReturn

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import joinedload

from backend import clock, notify
from backend.api import page_of
from backend.audit.services import record
from backend.errors import Invalid, NotFound, StateConflict
from backend.extensions import db
from backend.models import (
    Appointment,
    AppointmentStatus,
    Center,
    SessionStatus,
    Status,
    User,
    Vaccination,
    VaccinationSession,
    Vaccine,
)
from backend.models.center import city_key
from backend.sessions.calendar import local_today
from backend.sessions.schemas import WEEKDAYS

HORIZON_DAYS = 365
PAGE_ORDER = (VaccinationSession.date, VaccinationSession.center_id, VaccinationSession.id)


def invalid(field: str, message: str) -> NoReturn:
    """Refuse the value of `field` (422, in the shape flask-smorest uses for schema errors)."""
    raise Invalid(field, message)


def get_session(session_id: int) -> VaccinationSession:
    """The session, or 404."""
    session = db.session.get(VaccinationSession, session_id)
    if session is None:
        raise NotFound("No such session.")
    return session


def _check_offer(center_id: int, vaccine_id: int, days: list[date]) -> Center:
    center = db.session.get(Center, center_id)
    if center is None or not center.active:
        invalid("center_id", "No such active vaccination center.")
    if db.session.get(Vaccine, vaccine_id) is None:
        invalid("vaccine_id", "No such vaccine.")
    if min(days) < local_today():
        invalid("date", "Sessions cannot be published for a past day.")
    if max(days) > local_today() + timedelta(HORIZON_DAYS):
        invalid("date", "Sessions are published at most a year ahead.")
    return center


def create(fields: dict, *, actor: User) -> VaccinationSession:
    """Publish one session; a second open one at the center for the vaccine and day is a 409."""
    center = _check_offer(fields["center_id"], fields["vaccine_id"], [fields["date"]])
    session = VaccinationSession(**fields, city_key=center.city_key, booked=0)
    db.session.add(session)
    db.session.flush()
    _record("session.created", actor, session.id, date=session.date.isoformat())
    db.session.commit()
    return session


def create_many(fields: dict, *, actor: User) -> list[VaccinationSession]:
    """Publish a session on each chosen weekday from date_from to date_to; all or none (409)."""
    weekdays = {WEEKDAYS.index(day) for day in fields["weekdays"]}
    span = (fields["date_to"] - fields["date_from"]).days + 1
    days = [fields["date_from"] + timedelta(n) for n in range(span)]
    days = [day for day in days if day.weekday() in weekdays]
    if not days:
        invalid("weekdays", "None of these weekdays falls in the range.")
    center = _check_offer(fields["center_id"], fields["vaccine_id"], days)
    common = {key: fields[key] for key in ("center_id", "vaccine_id", "capacity", "min_age")}
    common["city_key"] = center.city_key
    sessions = [VaccinationSession(**common, date=day, booked=0) for day in days]
    db.session.add_all(sessions)
    db.session.flush()
    _record("session.created", actor, None, dates=[day.isoformat() for day in days])
    db.session.commit()
    return sessions


def change(session_id: int, fields: dict, *, actor: User) -> VaccinationSession:
    """Change capacity or min_age; capacity below the places already booked is a 409."""
    session = get_session(session_id)
    if "capacity" in fields:
        # Conditional, so a booking racing this change cannot end up above the new capacity.
        moved = db.session.execute(
            update(VaccinationSession)
            .where(
                VaccinationSession.id == session_id,
                VaccinationSession.booked <= fields["capacity"],
            )
            .values(capacity=fields["capacity"])
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            db.session.refresh(session)
            raise StateConflict(f"{session.booked} places are booked; capacity cannot go below.")
    if "min_age" in fields:
        session.min_age = fields["min_age"]
    _record("session.updated", actor, session_id, fields=sorted(fields))
    db.session.commit()
    db.session.refresh(session)
    return session


def remove(session_id: int, *, actor: User) -> None:
    """Delete a session nobody ever booked; 409 otherwise (cancel it instead)."""
    get_session(session_id)
    booked_ever = exists().where(Appointment.session_id == session_id)
    deleted = db.session.execute(
        delete(VaccinationSession)
        .where(VaccinationSession.id == session_id, VaccinationSession.booked == 0, ~booked_ever)
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount != 1:
        raise StateConflict("This session has bookings; cancel it instead.")
    _record("session.deleted", actor, session_id)
    db.session.commit()


def cancel(session_id: int, *, actor: User) -> VaccinationSession:
    """Cancel a session with its appointments, and tell the people booked; again: a no-op."""
    session = get_session(session_id)
    closed = db.session.execute(
        update(VaccinationSession)
        .where(VaccinationSession.id == session_id, VaccinationSession.status == SessionStatus.OPEN)
        .values(status=SessionStatus.CANCELLED, booked=0)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        db.session.refresh(session)
        return session
    # Appointments whose dose was not given yet; reviewed ones keep their outcome.
    live = list(
        db.session.execute(
            select(Appointment.id, Appointment.vaccination_id)
            .join(Appointment.vaccination)
            .where(
                Appointment.session_id == session_id,
                Appointment.status == AppointmentStatus.BOOKED,
                Vaccination.status == Status.PENDING,
            )
        )
    )
    appointment_ids = [appointment_id for appointment_id, _ in live]
    vaccination_ids = [vaccination_id for _, vaccination_id in live]
    holders = list(
        db.session.execute(
            select(User.email, User.phone_number, User.verified)
            .join(Vaccination, Vaccination.user_id == User.id)
            .where(Vaccination.id.in_(vaccination_ids), User.deleted_at.is_(None))
            .distinct()
        )
    )
    db.session.execute(
        update(Vaccination)
        .where(Vaccination.id.in_(vaccination_ids), Vaccination.status == Status.PENDING)
        .values(status=Status.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    cancelled = db.session.execute(
        update(Appointment)
        .where(Appointment.id.in_(appointment_ids))
        .values(status=AppointmentStatus.CANCELLED, cancelled_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    _record("session.cancelled", actor, session_id, appointments=cancelled.rowcount)
    db.session.commit()
    db.session.refresh(session)
    _tell(holders, session)
    return session


def _tell(holders: list, session: VaccinationSession) -> None:
    text = (
        f"Your vaccination appointment at {session.center.name} on {session.date.isoformat()}"
        " was cancelled by the center. Please book another session."
    )
    for email, phone_number, verified in holders:
        phone = phone_number if verified else None
        notify.send(email=email, phone=phone, subject="Appointment cancelled", text=text)


def _record(event: str, actor: User, session_id: int | None, **details) -> None:
    record(event, actor_id=actor.id, subject_type="session", subject_id=session_id, details=details)


def search(filters: dict, page: int, page_size: int) -> tuple[list[VaccinationSession], int]:
    """One page of open sessions matching `filters`, by day then center; and the total."""
    query = select(VaccinationSession).where(
        VaccinationSession.status == SessionStatus.OPEN,
        VaccinationSession.date >= filters.get("date_from", local_today()),
    )
    if "date_to" in filters:
        query = query.where(VaccinationSession.date <= filters["date_to"])
    if "center_id" in filters:
        query = query.where(VaccinationSession.center_id == filters["center_id"])
    if "vaccine_id" in filters:
        query = query.where(VaccinationSession.vaccine_id == filters["vaccine_id"])
    if "city" in filters:
        query = query.where(VaccinationSession.city_key == city_key(filters["city"]))
    if "age" in filters:
        age = filters["age"]
        eligible = select(Vaccine.id).where(
            Vaccine.min_age <= age, or_(Vaccine.max_age.is_(None), Vaccine.max_age >= age)
        )
        query = query.where(
            func.coalesce(VaccinationSession.min_age, 0) <= age,
            VaccinationSession.vaccine_id.in_(eligible),
        )
    rows = query.order_by(*PAGE_ORDER).options(
        joinedload(VaccinationSession.center), joinedload(VaccinationSession.vaccine)
    )
    return page_of(rows, page, page_size)
