"""Registration and review: the dose rules, who may see what, and race-safe status changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from backend import clock
from backend.api import page_of
from backend.audit.services import record
from backend.errors import Forbidden, Invalid, NotFound, StateConflict
from backend.extensions import db
from backend.models import Center, Status, User, Vaccination, Vaccine
from backend.models.center import city_key
from backend.stats import tallies
from backend.vaccination.certificates import issue_certificate

BOOKING_HORIZON_DAYS = 365


def today() -> date:
    """Today's date in UTC, from the one clock."""
    return clock.utcnow().date()


def invalid(field: str, message: str) -> NoReturn:
    """Refuse the value of `field` (422, in the shape flask-smorest uses for schema errors)."""
    raise Invalid(field, message)


def of_person(user_id: int, member_id: int | None):
    """The WHERE clause for one person's records: the account holder's own, or a member's."""
    if member_id is None:
        return (Vaccination.user_id == user_id, Vaccination.member_id.is_(None))
    return (Vaccination.user_id == user_id, Vaccination.member_id == member_id)


def approved_doses(user_id: int, member_id: int | None = None) -> list[Vaccination]:
    """The person's approved (and not revoked) doses, first dose first."""
    query = select(Vaccination).where(
        *of_person(user_id, member_id), Vaccination.status == Status.APPROVED
    )
    return list(db.session.scalars(query.order_by(Vaccination.dose_number)))


def earliest_next_dose(previous: Vaccination) -> date:
    return previous.vaccination_date + timedelta(days=previous.vaccine.dose_interval_days)


def register(
    user: User, center_id: int, vaccine_id: int, preferred_date: date | None
) -> Vaccination:
    """Register `user` for their next dose, or refuse naming the rule that forbids it."""
    if current_app.config["REQUIRE_VERIFIED"] and not user.verified:
        raise Forbidden("Your account must be verified before you can register.")
    center = db.session.get(Center, center_id)
    if center is None or not center.active:
        invalid("center_id", "No such active vaccination center.")
    vaccine = db.session.get(Vaccine, vaccine_id)
    if vaccine is None:
        invalid("vaccine_id", "No such vaccine.")
    if preferred_date is not None and preferred_date < today():
        invalid("preferred_date", "The preferred date is in the past.")
    if preferred_date is not None and preferred_date > today() + timedelta(BOOKING_HORIZON_DAYS):
        invalid("preferred_date", "The preferred date must be within a year.")
    if has_pending(user.id):
        raise StateConflict("You already have a pending registration; cancel it or await review.")
    doses = approved_doses(user.id)
    if doses and len(doses) >= (done := doses[-1].vaccine).doses_required:
        raise StateConflict(f"You have all {done.doses_required} doses of {done.name}.")
    if doses and doses[-1].vaccine_id != vaccine.id:
        invalid("vaccine_id", f"Your earlier doses were {doses[-1].vaccine.name}; use it again.")
    if len(doses) >= vaccine.doses_required:
        raise StateConflict(f"You have all {vaccine.doses_required} doses of {vaccine.name}.")
    if doses and (preferred_date or today()) < (earliest := earliest_next_dose(doses[-1])):
        invalid("preferred_date", f"The next dose can be given from {earliest.isoformat()} on.")
    vaccination = Vaccination(
        user_id=user.id,
        center=center,
        vaccine=vaccine,
        dose_number=len(doses) + 1,
        status=Status.PENDING,
        preferred_date=preferred_date,
    )
    db.session.add(vaccination)
    db.session.flush()  # the partial unique index turns a racing second registration into 409
    _record("vaccination.registered", user, vaccination)
    db.session.commit()
    return vaccination


def _record(event: str, actor: User, vaccination: Vaccination, **details) -> None:
    record(
        event,
        actor_id=actor.id,
        subject_type="vaccination",
        subject_id=vaccination.id,
        details={"user_id": vaccination.user_id, **details},
    )


def has_pending(user_id: int, member_id: int | None = None) -> bool:
    """Whether the person has a pending registration (a live appointment is one)."""
    query = select(Vaccination.id).where(
        *of_person(user_id, member_id), Vaccination.status == Status.PENDING
    )
    return db.session.scalar(query.limit(1)) is not None


NEWEST_FIRST = (Vaccination.created_at.desc(), Vaccination.id.desc())
# What VaccinationSchema shows of each row, in the page's one query (not three per row).
WITH_DETAILS = (
    joinedload(Vaccination.vaccine),
    joinedload(Vaccination.center),
    joinedload(Vaccination.certificate),
)


def own_vaccinations(user: User) -> list[Vaccination]:
    """The account's registrations, newest first."""
    query = select(Vaccination).where(Vaccination.user_id == user.id)
    return list(db.session.scalars(query.order_by(*NEWEST_FIRST)))


def visible_vaccination(user: User, vaccination_id: int) -> Vaccination:
    """The registration if `user` owns it or is an admin; 404 as if absent otherwise."""
    vaccination = db.session.get(Vaccination, vaccination_id)
    if vaccination is None or not (user.is_admin or vaccination.user_id == user.id):
        raise NotFound("No such vaccination.")
    return vaccination


def search(filters: dict, page: int, page_size: int) -> tuple[list[Vaccination], int]:
    """One page of all registrations matching `filters`, newest first; and the total."""
    query = select(Vaccination)
    if "status" in filters:
        query = query.where(Vaccination.status == filters["status"])
    if "center_id" in filters:
        query = query.where(Vaccination.center_id == filters["center_id"])
    if "city" in filters:
        query = query.join(Center).where(Center.city_key == city_key(filters["city"]))
    if "date_from" in filters:
        start = datetime.combine(filters["date_from"], time.min, UTC)
        query = query.where(Vaccination.created_at >= start)
    if "date_to" in filters:
        end = datetime.combine(filters["date_to"], time.max, UTC)
        query = query.where(Vaccination.created_at <= end)
    rows = query.order_by(*NEWEST_FIRST).options(*WITH_DETAILS)
    return page_of(rows, page, page_size)


def _move(vaccination: Vaccination, source: Status, target: Status, refusal: str, **values) -> bool:
    """Move the record from `source` to `target` status in one conditional UPDATE.

    True when this request moved it; False when it already was (or a racing request just put it)
    at `target`, which makes repeating a review a no-op; 409 with `refusal` from any other status.
    """
    if vaccination.status == source:
        result = db.session.execute(
            update(Vaccination)
            .where(Vaccination.id == vaccination.id, Vaccination.status == source)
            .values(status=target, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            db.session.refresh(vaccination)
            return True
        db.session.rollback()  # another request changed it first: read what it left
    if vaccination.status == target:
        return False
    raise StateConflict(f"{refusal}; this one is {vaccination.status}.")


def cancel(user: User, vaccination_id: int) -> None:
    """The owner cancels a pending registration; 409 once it has been reviewed."""
    vaccination = visible_vaccination(user, vaccination_id)
    if vaccination.user_id != user.id:
        raise Forbidden("Only the account that registered can cancel.")
    if vaccination.appointment is not None:  # its place goes back to the session too
        from backend.appointments.services import cancel as cancel_appointment

        return cancel_appointment(user, vaccination.appointment.id)
    if _move(vaccination, Status.PENDING, Status.CANCELLED, "Only a pending one can be cancelled"):
        _record("vaccination.cancelled", user, vaccination)
        db.session.commit()


def _reviewable(admin: User, vaccination_id: int) -> Vaccination:
    """The registration an admin may review: every review action (approve, reject, revoke)."""
    vaccination = visible_vaccination(admin, vaccination_id)
    if vaccination.user_id == admin.id:
        raise Forbidden("You cannot review your own vaccination record; another admin must.")
    return vaccination


def approve(admin: User, vaccination_id: int, vaccination_date: date | None) -> Vaccination:
    """Approve a pending registration and issue its one certificate; approving again is a no-op."""
    vaccination = _reviewable(admin, vaccination_id)
    given = vaccination_date or today()
    if vaccination.status == Status.PENDING:
        if given > today():
            invalid("vaccination_date", "The vaccination date is in the future.")
        if given < (registered := vaccination.created_at.date()):
            invalid(
                "vaccination_date",
                f"The vaccination date is before the registration ({registered.isoformat()}).",
            )
        # Not this record itself: approved meanwhile by a concurrent request, it would come
        # back as this session's still-pending object, without a date (give() settles the race).
        doses = [
            dose
            for dose in approved_doses(vaccination.user_id, vaccination.member_id)
            if dose.id != vaccination.id
        ]
        if doses and given < (earliest := earliest_next_dose(doses[-1])):
            invalid("vaccination_date", f"This dose cannot be given before {earliest.isoformat()}.")
    give(vaccination, admin, given, "vaccination.approved")
    return vaccination


def give(vaccination: Vaccination, actor: User, given: date, event: str, **dose) -> bool:
    """Record a pending dose as given on `given` (with `dose`: batch, vaccinator, time), issue
    its one certificate, audit `event`, commit; False when it already was (a no-op)."""
    review = {"vaccination_date": given, "reviewed_by_id": actor.id, "reviewed_at": clock.utcnow()}
    refusal = "Only a pending registration can be approved"
    if not _move(vaccination, Status.PENDING, Status.APPROVED, refusal, **review, **dose):
        return False
    certificate = issue_certificate(vaccination)
    db.session.add(certificate)
    _record(event, actor, vaccination)
    _record("certificate.issued", actor, vaccination, certificate_id=certificate.id)
    # Last before the commit: the day's per-vaccine row is shared by every center, so its lock
    # is held only for the commit itself.
    tallies.count(vaccination, 1)
    db.session.commit()
    return True


def reject(admin: User, vaccination_id: int, reason: str) -> Vaccination:
    """Reject a pending registration with a reason; rejecting again is a no-op."""
    vaccination = _reviewable(admin, vaccination_id)
    review = {"rejection_reason": reason, "reviewed_by_id": admin.id, "reviewed_at": clock.utcnow()}
    refusal = "Only a pending registration can be rejected"
    if _move(vaccination, Status.PENDING, Status.REJECTED, refusal, **review):
        _record("vaccination.rejected", admin, vaccination)
        db.session.commit()
    return vaccination


def revoke(admin: User, vaccination_id: int, reason: str) -> Vaccination:
    """Revoke the certificate of a record entered in error; the dose no longer counts."""
    vaccination = _reviewable(admin, vaccination_id)
    refusal = "Only an approved registration has a certificate to revoke"
    if _move(vaccination, Status.APPROVED, Status.REVOKED, refusal):
        certificate = vaccination.certificate
        certificate.revoked_at, certificate.revoke_reason = clock.utcnow(), reason
        certificate.revoked_by_id = admin.id
        _record("certificate.revoked", admin, vaccination, certificate_id=certificate.id)
        tallies.count(vaccination, -1)
        db.session.commit()
    return vaccination


def certificate_of(user: User, vaccination_id: int) -> Vaccination:
    """The approved registration whose certificate `user` may download; 404 or 409 otherwise."""
    vaccination = visible_vaccination(user, vaccination_id)
    if vaccination.status == Status.REVOKED:
        raise StateConflict("This certificate has been revoked.")
    if vaccination.status != Status.APPROVED:
        raise StateConflict(f"No certificate: the registration is {vaccination.status}.")
    return vaccination


def doses_up_to(vaccination: Vaccination) -> list[Vaccination]:
    """The holder's approved doses up to and including this one, for the certificate."""
    doses = approved_doses(vaccination.user_id, vaccination.member_id)
    return [dose for dose in doses if dose.dose_number <= vaccination.dose_number]
