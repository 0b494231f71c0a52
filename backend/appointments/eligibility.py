"""Who may book which session: the session's state and cut-off, age, and the dose schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from backend.errors import Forbidden, StateConflict
from backend.extensions import db
from backend.models import Member, SessionStatus, User, VaccinationSession, Vaccine
from backend.sessions.calendar import age_on, booking_closes_at, local_now, local_today
from backend.vaccination.services import approved_doses, invalid


@dataclass(frozen=True)
class Person:
    """Whom a booking is for: the account holder (member_id None) or one of their members."""

    user_id: int
    member_id: int | None
    name: str
    date_of_birth: date | None


def person_for(holder: User, member_id: int | None) -> Person:
    """The holder, or their member `member_id` (422 if it is not theirs)."""
    if member_id is None:
        return Person(holder.id, None, holder.name, holder.date_of_birth)
    member = db.session.get(Member, member_id)
    if member is None or member.user_id != holder.id or member.deleted_at is not None:
        invalid("member_id", "No such member of your account.")
    return Person(holder.id, member.id, member.name, member.date_of_birth)


def bookable_session(session_id: int) -> VaccinationSession:
    """The session, if it is open, not past, and booking for it has not closed (else 422)."""
    session = db.session.get(VaccinationSession, session_id)
    if session is None:
        invalid("session_id", "No such session.")
    if session.status != SessionStatus.OPEN:
        invalid("session_id", "This session was cancelled.")
    if session.date < local_today():
        invalid("session_id", "This session is in the past.")
    closes_at = booking_closes_at(session.date)
    if closes_at is not None and local_now() >= closes_at:
        invalid("session_id", f"Booking for this session closed at {closes_at.isoformat()}.")
    return session


def check_age(person: Person, session: VaccinationSession) -> None:
    """422 unless the person's age on the session's day is within its and the vaccine's ages."""
    if person.date_of_birth is None:
        invalid(
            "date_of_birth",
            "Set your date of birth (PATCH /users/me) before booking: eligibility depends on age.",
        )
    age = age_on(person.date_of_birth, session.date)
    youngest = max(session.min_age or 0, session.vaccine.min_age)
    oldest = session.vaccine.max_age
    if age < youngest or (oldest is not None and age > oldest):
        span = f"{youngest} and over" if oldest is None else f"{youngest} to {oldest}"
        invalid("session_id", f"This session is for ages {span}; {person.name} will be {age}.")


def next_dose(person: Person, session: VaccinationSession) -> int:
    """The dose number the person would receive at the session; 422/409 if they may not."""
    return next_dose_on(person, session.vaccine, session.date)


def next_dose_on(person: Person, vaccine: Vaccine, day: date, field: str = "session_id") -> int:
    """The dose number of `vaccine` the person may receive on `day`; 422 (naming `field`) or
    409 if they may not.

    After the primary series, one booster of the same vaccine once booster_interval_days have
    passed; intervals are counted to `day`.
    """
    doses = approved_doses(person.user_id, person.member_id)
    if not doses:
        return 1
    last = doses[-1]
    if last.vaccine_id != vaccine.id:
        action = "book a session of it" if field == "session_id" else "give it again"
        invalid(field, f"Earlier doses were {last.vaccine.name}; {action}.")
    if len(doses) < vaccine.doses_required:
        interval = vaccine.dose_interval_days
    elif len(doses) == vaccine.doses_required and vaccine.booster_interval_days is not None:
        interval = vaccine.booster_interval_days
    else:
        raise StateConflict(f"{person.name} has every dose of {vaccine.name} there is to book.")
    earliest = last.vaccination_date + timedelta(days=interval)
    if day < earliest:
        kind = "booster" if len(doses) >= vaccine.doses_required else "next dose"
        invalid(field, f"The {kind} can be given from {earliest.isoformat()} on.")
    return len(doses) + 1


def check_verified(holder: User) -> None:
    if current_app.config["REQUIRE_VERIFIED"] and not holder.verified:
        raise Forbidden("Your account must be verified before you can book.")
