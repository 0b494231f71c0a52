"""The prototype's vaccine service mapped onto the real model; every rule stays in vaccination."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.errors import NotFound, StateConflict
from backend.extensions import db
from backend.models import Center, Certificate, Status, User, Vaccination, Vaccine
from backend.vaccination import services

# POST /legacy/vaccine/allvaccines answers at most this many registrations, newest first
# (GET /vaccinations pages through all of them).
ALL_VACCINATIONS_CAP = 1000
WITH_CERTIFICATE = joinedload(Vaccination.certificate)


def register_next_dose(user: User) -> Vaccination:
    """Register the caller's next dose as the prototype did: no choices, today's date.

    The vaccine of their earlier doses, else the first vaccine in the catalogue; the center
    LEGACY_VACCINE_CENTER_ID, else the first active one. POST /vaccinations's rules then apply.
    """
    doses = services.approved_doses(user.id)
    vaccine_id = doses[-1].vaccine_id if doses else _lowest(Vaccine.id)
    center_id = current_app.config["LEGACY_VACCINE_CENTER_ID"] or _lowest(
        Center.id, Center.active.is_(True)
    )
    return services.register(user, center_id, vaccine_id, services.today())


def _lowest(column, *criteria) -> int:
    """The lowest id matching `criteria`, or 0 (which no row has: register names the field)."""
    return db.session.scalar(select(column).where(*criteria).order_by(column).limit(1)) or 0


def latest_registration(user: User) -> list[Vaccination]:
    """The caller's newest registration, alone in a list; an empty list when there is none."""
    query = select(Vaccination).where(Vaccination.user_id == user.id)
    query = query.order_by(*services.NEWEST_FIRST).options(WITH_CERTIFICATE)
    return list(db.session.scalars(query.limit(1)))


def newest_registrations() -> list[Vaccination]:
    """Everyone's registrations, newest first, at most ALL_VACCINATIONS_CAP of them."""
    query = select(Vaccination).order_by(*services.NEWEST_FIRST).options(WITH_CERTIFICATE)
    return list(db.session.scalars(query.limit(ALL_VACCINATIONS_CAP)))


def linked_certificate(certificate_id: str) -> Vaccination:
    """The approved registration a certificate link names; 404 if unknown, 409 once revoked."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound("No such certificate.")
    if certificate.revoked_at is not None or certificate.vaccination.status == Status.REVOKED:
        raise StateConflict("This certificate has been revoked.")
    return certificate.vaccination


def has_live_certificate(vaccination: Vaccination) -> bool:
    """Approved, with a certificate that was not revoked: what a link may be made for."""
    certificate = vaccination.certificate
    return (
        vaccination.status == Status.APPROVED
        and certificate is not None
        and certificate.revoked_at is None
    )
