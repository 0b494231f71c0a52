"""Model factories: valid accounts with unique emails and NIDs, overridable field by field."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from backend.auth.passwords import hash_password
from backend.extensions import db
from backend.models import Center, Status, User, Vaccination, VaccinationSession, Vaccine
from backend.stats import tallies

_sequence = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery"


def make_user(*, password: str = DEFAULT_PASSWORD, **fields) -> User:
    n = next(_sequence)
    values = {
        "name": f"Citizen {n}",
        "email": f"citizen{n}@example.org",
        "nid": f"{1000000000 + n}",
        "phone_number": f"+88017{n:08d}",
        "role_id": 1,
        "verified": False,
    }
    values.update(fields)
    user = User(password_hash=hash_password(password), **values)
    db.session.add(user)
    db.session.commit()
    return user


def registration(**overrides) -> dict:
    """A valid POST /auth/register body."""
    n = next(_sequence)
    body = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "password": DEFAULT_PASSWORD,
        "nid": f"{2000000000 + n}",
        "phone_number": f"01712{n:06d}",
    }
    body.update(overrides)
    return body


def make_center(**fields) -> Center:
    n = next(_sequence)
    values = {"name": f"Center {n}", "city": "Dhaka", "address": f"{n} Hospital Road"}
    values.update(fields)
    center = Center(**values)
    db.session.add(center)
    db.session.commit()
    return center


def vaccine_id(name: str = "Pfizer") -> int:
    """The id of a vaccine the migration seeds (ids differ between runs, names do not)."""
    return db.session.scalar(select(Vaccine.id).where(Vaccine.name == name))


def make_session(*, center_id: int, vaccine: str = "Pfizer", **fields) -> VaccinationSession:
    """An open session (default: a week from today, 10 places, none booked)."""
    values = {"date": date.today() + timedelta(days=7), "capacity": 10, "booked": 0}
    values.update(fields)
    city = db.session.get(Center, center_id).city_key
    session = VaccinationSession(
        center_id=center_id, vaccine_id=vaccine_id(vaccine), city_key=city, **values
    )
    db.session.add(session)
    db.session.commit()
    return session


def make_dose(user: User, *, vaccine: str = "Pfizer", given: date, **fields) -> Vaccination:
    """An approved dose given on `given` (the next of the person's doses unless told)."""
    previous = db.session.scalars(
        select(Vaccination).where(
            Vaccination.user_id == user.id,
            Vaccination.member_id == fields.get("member_id"),
            Vaccination.status == Status.APPROVED,
        )
    ).all()
    values = {"dose_number": len(previous) + 1, "center_id": make_center().id}
    values.update(fields)
    dose = Vaccination(
        user_id=user.id,
        vaccine_id=vaccine_id(vaccine),
        status=Status.APPROVED,
        vaccination_date=given,
        **values,
    )
    db.session.add(dose)
    db.session.flush()
    tallies.count(dose, 1)  # as the services do when they give a dose
    db.session.commit()
    return dose
