"""The vaccine catalogue and the centers: lookups, searches and the rules for removing them."""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select, update

from backend.api import page_of
from backend.audit.services import record as record_event
from backend.errors import Invalid, NotFound, StateConflict
from backend.extensions import db
from backend.models import Center, User, Vaccination, VaccinationSession, Vaccine
from backend.models.center import city_key


def vaccines() -> list[Vaccine]:
    """Every vaccine, by name."""
    return list(db.session.scalars(select(Vaccine).order_by(Vaccine.name)))


def get_vaccine(vaccine_id: int) -> Vaccine:
    """The vaccine, or 404."""
    vaccine = db.session.get(Vaccine, vaccine_id)
    if vaccine is None:
        raise NotFound("No such vaccine.")
    return vaccine


def save(record: Vaccine | Center, fields: dict, *, actor: User) -> Vaccine | Center:
    """Set `fields` on a new or existing vaccine or center and commit (duplicates are a 409)."""
    created = record.id is None
    for name, value in fields.items():
        setattr(record, name, value)
    if isinstance(record, Vaccine) and record.max_age is not None:
        if record.max_age < (record.min_age if record.min_age is not None else 18):
            message = "max_age must not be below min_age."
            db.session.rollback()
            raise Invalid("max_age", message)
    db.session.add(record)
    db.session.flush()
    if isinstance(record, Center) and "city" in fields:  # sessions search by the center's city
        db.session.execute(
            update(VaccinationSession)
            .where(VaccinationSession.center_id == record.id)
            .values(city_key=record.city_key)
        )
    _audit(record, "created" if created else "updated", actor, fields=sorted(fields))
    db.session.commit()
    return record


def _audit(record: Vaccine | Center, action: str, actor: User, **details) -> None:
    kind = type(record).__name__.lower()
    record_event(
        f"{kind}.{action}",
        actor_id=actor.id,
        subject_type=kind,
        subject_id=record.id,
        details=details,
    )


def delete_vaccine(vaccine: Vaccine, *, actor: User) -> None:
    """Remove a vaccine no registration uses; 409 otherwise."""
    if db.session.scalar(select(exists().where(Vaccination.vaccine_id == vaccine.id))):
        raise StateConflict("Registrations use this vaccine; it cannot be deleted.")
    _audit(vaccine, "deleted", actor, name=vaccine.name)
    db.session.delete(vaccine)
    db.session.commit()


def get_center(center_id: int) -> Center:
    """The center, or 404."""
    center = db.session.get(Center, center_id)
    if center is None:
        raise NotFound("No such center.")
    return center


def _contains(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_centers(
    city: str | None, q: str | None, include_inactive: bool, page: int, page_size: int
) -> tuple[list[Center], int]:
    """One page of centers in `city` whose name or address contains `q`, by name; and the total."""
    query = select(Center)
    if not include_inactive:
        query = query.where(Center.active.is_(True))
    if city:
        query = query.where(Center.city_key == city_key(city))
    if q:
        pattern = _contains(q)
        query = query.where(
            or_(
                func.lower(Center.name).like(pattern, escape="\\"),
                func.lower(Center.address).like(pattern, escape="\\"),
            )
        )
    return page_of(query.order_by(Center.name, Center.id), page, page_size)


def cities() -> list[str]:
    """The distinct cities with an active center, each once whatever its letter case."""
    rows = db.session.execute(
        select(func.min(Center.city))
        .where(Center.active.is_(True))
        .group_by(Center.city_key)
        .order_by(Center.city_key)
    )
    return [city for (city,) in rows]


def delete_center(center: Center, *, actor: User) -> None:
    """Remove a center no registration uses; 409 otherwise (deactivate it instead)."""
    if db.session.scalar(select(exists().where(Vaccination.center_id == center.id))):
        raise StateConflict("Registrations use this center; deactivate it instead.")
    _audit(center, "deleted", actor, name=center.name)
    db.session.delete(center)
    db.session.commit()
