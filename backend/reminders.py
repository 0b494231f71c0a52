"""Reminders: appointments tomorrow and doses that became due, sent once each (from cron).

People are read in keyset-paginated batches (id > last, LIMIT BATCH), so a million rows cost a
thousand small queries and bounded memory. Each batch's reminders are claimed (INSERT ... ON
CONFLICT DO NOTHING RETURNING on the unique `key`) and committed before they are queued: a
reminder is sent at most once, even if a run dies or two cron runs overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased, joinedload

from backend import notify
from backend.extensions import db
from backend.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    Status,
    User,
    Vaccination,
    VaccinationSession,
    upsert,
)
from backend.sessions.calendar import local_today

BATCH = 1000
# What a reminder's text names, loaded with the batch's one query (not several per row).
PERSON_AND_PLACE = (
    joinedload(Vaccination.user),
    joinedload(Vaccination.member),
    joinedload(Vaccination.vaccine),
    joinedload(Vaccination.center),
)


@dataclass(frozen=True)
class Due:
    """One reminder to send: its unique key, its kind, and whom and what to tell."""

    key: str
    kind: str
    user_id: int
    email: str | None
    phone: str | None
    text: str

    @classmethod
    def to(cls, user: User, key: str, kind: str, text: str) -> Due | None:
        """The reminder for `user`, or None when the account was deleted."""
        if user.deleted_at is not None:
            return None
        return cls(key, kind, user.id, user.email, user.phone_number, text)


def _appointments_tomorrow(tomorrow: date) -> Iterator[list[Due]]:
    last_id = 0
    while True:
        query = (
            select(Appointment)
            .join(VaccinationSession, Appointment.session_id == VaccinationSession.id)
            .where(
                Appointment.id > last_id,
                Appointment.status == AppointmentStatus.BOOKED,
                VaccinationSession.date == tomorrow,
            )
            .options(
                joinedload(Appointment.session),
                joinedload(Appointment.vaccination).options(*PERSON_AND_PLACE),
            )
            .order_by(Appointment.id)
            .limit(BATCH)
        )
        batch = list(db.session.scalars(query))
        if not batch:
            return
        last_id = batch[-1].id
        yield [due for appointment in batch if (due := _appointment_due(appointment))]


def _appointment_due(appointment: Appointment) -> Due | None:
    vaccination, session = appointment.vaccination, appointment.session
    text = (
        f"Reminder: {vaccination.holder.name}'s appointment for dose {vaccination.dose_number} "
        f"of {vaccination.vaccine.name} is tomorrow, {session.date.isoformat()}, at "
        f"{vaccination.center.name}, {vaccination.center.city}. Your code: {appointment.code}."
    )
    return Due.to(vaccination.user, f"appointment:{appointment.id}", "appointment", text)


def _doses_due(today: date) -> Iterator[list[Due]]:
    """Each person's latest approved dose whose next dose (or booster) is due by today."""
    later, pending = aliased(Vaccination), aliased(Vaccination)
    same_person = and_(
        later.user_id == Vaccination.user_id,
        later.member_id.is_not_distinct_from(Vaccination.member_id),
    )
    last_id = 0
    while True:
        query = (
            select(Vaccination)
            .where(
                Vaccination.id > last_id,
                Vaccination.status == Status.APPROVED,
                ~exists().where(
                    same_person,
                    later.status == Status.APPROVED,
                    later.dose_number > Vaccination.dose_number,
                ),
                ~exists().where(
                    pending.user_id == Vaccination.user_id,
                    pending.member_id.is_not_distinct_from(Vaccination.member_id),
                    pending.status == Status.PENDING,
                ),
            )
            .options(*PERSON_AND_PLACE)
            .order_by(Vaccination.id)
            .limit(BATCH)
        )
        batch = list(db.session.scalars(query))
        if not batch:
            return
        last_id = batch[-1].id
        yield [due for dose in batch if (due := _next_dose_due(dose, today)) is not None]


def _next_dose_due(dose: Vaccination, today: date) -> Due | None:
    vaccine = dose.vaccine
    if dose.dose_number < vaccine.doses_required:
        kind, interval = "next_dose", vaccine.dose_interval_days
    elif dose.dose_number == vaccine.doses_required and vaccine.booster_interval_days is not None:
        kind, interval = "booster", vaccine.booster_interval_days
    else:
        return None
    due_on = dose.vaccination_date + timedelta(days=interval)
    if due_on > today:
        return None
    what = "booster" if kind == "booster" else f"dose {dose.dose_number + 1}"
    text = (
        f"{dose.holder.name}'s {what} of {vaccine.name} is due since {due_on.isoformat()}. "
        "Book an appointment or register for it."
    )
    key = f"dose:{dose.user_id}:{dose.member_id or 0}:{dose.dose_number + 1}"
    return Due.to(dose.user, key, kind, text)


def _unsent(batch: list[Due]) -> list[Due]:
    """The batch's reminders that no run has sent yet."""
    keys = [due.key for due in batch]
    sent = set(db.session.scalars(select(Reminder.key).where(Reminder.key.in_(keys))))
    return [due for due in batch if due.key not in sent]


def _claim(batch: list[Due]) -> list[Due]:
    """Record the batch's unsent reminders and keep those this run recorded, in one statement.

    INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key: of two runs racing over one batch,
    each reminder's row is written by exactly one, which alone sends it; the other skips it
    instead of failing on the unique key.
    """
    rows = [{"key": due.key, "kind": due.kind, "user_id": due.user_id} for due in batch]
    statement = upsert.insert(Reminder).values(rows).on_conflict_do_nothing(index_elements=["key"])
    claimed = set(db.session.scalars(statement.returning(Reminder.key)))
    db.session.commit()  # recorded first: a crash after this never sends twice
    return [due for due in batch if due.key in claimed]


def send_due(*, dry_run: bool = False) -> Iterator[Due]:
    """Record and queue every reminder due now, yielding each; `dry_run` records and sends none."""
    today = local_today()
    for batches in (_appointments_tomorrow(today + timedelta(days=1)), _doses_due(today)):
        for batch in batches:
            unsent = _unsent(batch)
            if not dry_run and unsent:
                unsent = _claim(unsent)
                for due in unsent:
                    notify.send(
                        email=due.email,
                        phone=due.phone,
                        subject="Vaccination reminder",
                        text=due.text,
                    )
            yield from unsent
            db.session.expunge_all()  # bounded memory: forget the batch's rows
