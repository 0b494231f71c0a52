"""Giving the dose of an appointment: the vaccinator's center and day, the person's code."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import update

from backend import clock
from backend.audit.services import record
from backend.errors import AlreadyGiven, AppointmentLocked, Forbidden, NotFound
from backend.extensions import db
from backend.models import Appointment, AppointmentStatus, Member, Status, User, Vaccination
from backend.sessions.calendar import local_today, zone
from backend.vaccination.services import give, invalid

MAX_FAILED_CODES = 5
APPOINTMENTS = Appointment.__table__


def administer(
    vaccinator: User, appointment_id: int, code: str, batch: str, administered_at: datetime | None
) -> Vaccination:
    """Record the appointment's dose as given by `vaccinator`, once the person's code matches."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.session.center_id != vaccinator.center_id:
        raise NotFound("No such appointment at your center.")
    vaccination = appointment.vaccination
    if appointment.status != AppointmentStatus.BOOKED or vaccination.status != Status.PENDING:
        raise AlreadyGiven(f"This appointment is {_state(appointment)}; there is no dose to give.")
    day = appointment.session.date
    if day != local_today():
        invalid("code", f"This appointment is on {day.isoformat()}; give its dose on that day.")
    refuse_self(vaccinator, vaccination.holder)
    given_at = administered_at or clock.utcnow()
    if given_at > clock.utcnow() or given_at.astimezone(zone()).date() != day:
        invalid("administered_at", f"The dose is given on the session's day ({day.isoformat()}).")
    check_code(appointment, code, vaccinator)
    dose = {"batch": batch, "administered_by_id": vaccinator.id, "administered_at": given_at}
    give(vaccination, vaccinator, day, "vaccination.administered", **dose)
    return vaccination


def _state(appointment: Appointment) -> str:
    if appointment.status == AppointmentStatus.CANCELLED:
        return "cancelled"
    return appointment.vaccination.status


SELF_DOSE = "Nobody records a dose given to themselves; another vaccinator must."
# Accounts created before migration 0016 have none; an admin adds it without recreating them.
NO_OWN_NID = (
    "Your staff account has no national ID on file, so a dose to yourself could not be told"
    " apart. Ask an admin to add it: PATCH /staff/{id} with your `nid`."
)


def own_nids(vaccinator: User) -> set[str]:
    """The national IDs that are the vaccinator's own: their staff NID, and their account's."""
    return {nid for nid in (vaccinator.staff_nid, vaccinator.nid) if nid}


def refuse_self(vaccinator: User, holder: User | Member | None, nid: str | None = None) -> None:
    """403 when the person to vaccinate is the vaccinator: the same account, or one of their
    own NIDs on the holder's record (their citizen account, a member, a walk-in record) or
    given for a walk-in (`nid`); and for a vaccinator with no NID on file, who could not be told
    apart from anyone."""
    own = own_nids(vaccinator)
    if not own:
        raise Forbidden(NO_OWN_NID.format(id=vaccinator.id))
    same_account = isinstance(holder, User) and holder.id == vaccinator.id
    if same_account or (holder is not None and holder.nid in own) or nid in own:
        raise Forbidden(SELF_DOSE)


def check_code(appointment: Appointment, code: str, vaccinator: User) -> None:
    """Spend one of the appointment's MAX_FAILED_CODES attempts, then compare the code.

    Counting first, in one conditional UPDATE, means concurrent guesses each take an attempt
    before any is compared: no more than MAX_FAILED_CODES comparisons are ever made. A right
    code gives its attempt back; a wrong one is committed before the 422.
    """
    attempts = APPOINTMENTS.c.failed_codes
    spent = db.session.execute(
        update(APPOINTMENTS)
        .where(APPOINTMENTS.c.id == appointment.id, attempts < MAX_FAILED_CODES)
        .values(failed_codes=attempts + 1)
        .returning(attempts)
    ).scalar()
    if spent is None:
        db.session.rollback()
        raise AppointmentLocked(LOCKED)
    if hmac.compare_digest(code.encode(), appointment.code.encode()):
        db.session.execute(
            update(APPOINTMENTS)
            .where(APPOINTMENTS.c.id == appointment.id)
            .values(failed_codes=attempts - 1)
        )
        return
    record(
        "appointment.wrong_code",
        actor_id=vaccinator.id,
        subject_type="appointment",
        subject_id=appointment.id,
        details={"attempt": spent},
    )
    db.session.commit()
    if spent >= MAX_FAILED_CODES:
        raise AppointmentLocked(LOCKED)
    left = MAX_FAILED_CODES - spent
    invalid("code", f"Wrong code; {left} attempt{'s' if left > 1 else ''} left.")


LOCKED = (
    f"{MAX_FAILED_CODES} wrong codes were given for this appointment; it is locked and only a"
    " health officer can record its dose (POST /vaccinations/<id>/approve)."
)
