"""Walk-ins: a dose given at the vaccinator's center to someone without an appointment.

The dose goes on the record of whoever holds the NID: an account, a family member, or a walk-in
person record filed earlier. Otherwise a new person record is filed: a citizen account row
nobody can sign in to (WALK_IN_PASSWORD), which an account registering that NID takes over
(backend.auth.services.create_account), doses and all.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select

from backend import clock
from backend.administrations.services import refuse_self
from backend.appointments.eligibility import Person, next_dose_on
from backend.audit.services import record
from backend.errors import StateConflict
from backend.extensions import db
from backend.models import Member, Role, Status, User, Vaccination, Vaccine
from backend.models.user import WALK_IN_PASSWORD
from backend.privacy.fields import index_of
from backend.sessions.calendar import age_on, local_today
from backend.vaccination.services import give, has_pending, invalid


def administer(
    vaccinator: User, *, nid: str, name: str, date_of_birth: date, vaccine_id: int, batch: str
) -> Vaccination:
    """Record a dose of `vaccine_id` given now at the vaccinator's center to the NID's holder."""
    vaccine = db.session.get(Vaccine, vaccine_id)
    if vaccine is None:
        invalid("vaccine_id", "No such vaccine.")
    holder = holder_of(nid)
    refuse_self(vaccinator, holder, nid)
    person = _person(holder) if holder is not None else Person(0, None, name, date_of_birth)
    today = local_today()
    _check_age(person, vaccine, today)
    dose_number = 1
    if holder is not None:
        if has_pending(person.user_id, person.member_id):
            raise StateConflict(
                f"{person.name} has a live appointment or pending registration;"
                " give that dose (with its code) or have an officer review it."
            )
        dose_number = next_dose_on(person, vaccine, today, field="vaccine_id")
    else:
        holder = _file_person(vaccinator, nid, name, date_of_birth)
        person = _person(holder)
    vaccination = Vaccination(
        user_id=person.user_id,
        member_id=person.member_id,
        center_id=vaccinator.center_id,
        vaccine_id=vaccine.id,
        dose_number=dose_number,
        status=Status.PENDING,
        preferred_date=today,
    )
    db.session.add(vaccination)
    db.session.flush()  # a racing walk-in entry for the same person fails here: 409
    dose = {"batch": batch, "administered_by_id": vaccinator.id, "administered_at": clock.utcnow()}
    give(vaccination, vaccinator, today, "vaccination.walk_in", **dose)
    return vaccination


def holder_of(nid: str) -> User | Member | None:
    """The open account, or else the family member, holding `nid` (walk-in records included)."""
    user = db.session.scalars(select(User).where(User.nid_index == index_of("nid", nid))).first()
    if user is not None:
        if user.deleted_at is not None:
            raise StateConflict("This national ID belongs to a closed account; see an officer.")
        return user
    return db.session.scalars(
        select(Member).where(Member.nid_index == index_of("nid", nid))
    ).first()


def _person(holder: User | Member) -> Person:
    if isinstance(holder, Member):
        return Person(holder.user_id, holder.id, holder.name, holder.date_of_birth)
    return Person(holder.id, None, holder.name, holder.date_of_birth)


def _check_age(person: Person, vaccine: Vaccine, day: date) -> None:
    if person.date_of_birth is None:
        return  # an account without a date of birth: the vaccinator checked the person
    age, oldest = age_on(person.date_of_birth, day), vaccine.max_age
    if age < vaccine.min_age or (oldest is not None and age > oldest):
        span = f"{vaccine.min_age} and over" if oldest is None else f"{vaccine.min_age}-{oldest}"
        invalid("vaccine_id", f"{vaccine.name} is for ages {span}; {person.name} is {age}.")


def _file_person(vaccinator: User, nid: str, name: str, date_of_birth: date) -> User:
    """A new person record for the NID, which an account registering it later takes over."""
    person = User(
        name=name,
        email=f"walk-in-{secrets.token_hex(8)}@accounts.invalid",
        password_hash=WALK_IN_PASSWORD,
        role_id=Role.CITIZEN,
        nid=nid,
        date_of_birth=date_of_birth,
        verified=False,
    )
    db.session.add(person)
    db.session.flush()  # a racing filing of the same NID fails here: 409
    record("walk_in.filed", actor_id=vaccinator.id, subject_id=person.id)
    return person
