"""Corrections of the name or date of birth on a certificate: requests, review, supersession."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from backend import clock
from backend.api import page_of
from backend.audit.services import record
from backend.errors import Conflict, Forbidden, NotFound, StateConflict
from backend.extensions import db
from backend.models import Certificate, Correction, CorrectionStatus, User
from backend.vaccination.certificates import issue_certificate

# DIVOC's limit: a person's record is corrected at most this many times.
MAX_APPROVED_CORRECTIONS = 5
SUPERSEDED = "superseded"


class CorrectionLimitReached(Conflict):
    """The person already has the most corrections allowed."""

    reason = "correction_limit"


def _count(user_id: int, member_id: int | None, *statuses: str) -> int:
    person = (
        Correction.member_id.is_(None) if member_id is None else (Correction.member_id == member_id)
    )
    query = select(func.count()).where(
        Correction.user_id == user_id, person, Correction.status.in_(statuses)
    )
    return db.session.scalar(query)


def _lock_person(user_id: int) -> None:
    """Hold the account's row until commit: one count-then-write per person at a time.

    Without it two requests (or two approvals of different certificates) both count 4 and both
    go on to make 6. PostgreSQL queues the second here, and it counts again after the first
    commits; SQLite runs one writer at a time anyway (FOR UPDATE is left out there).
    """
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def request_correction(
    user: User,
    certificate_id: str,
    reason: str,
    name: str | None = None,
    date_of_birth: date | None = None,
) -> Correction:
    """The holder asks for a corrected certificate; 409 once the person's limit is reached."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.vaccination.user_id != user.id:
        raise NotFound("No such certificate.")
    if certificate.revoked_at is not None:
        raise StateConflict("This certificate is revoked; correct the one that replaced it.")
    vaccination = certificate.vaccination
    _lock_person(user.id)
    counted = (CorrectionStatus.APPROVED, CorrectionStatus.PENDING)
    if _count(user.id, vaccination.member_id, *counted) >= MAX_APPROVED_CORRECTIONS:
        raise CorrectionLimitReached(
            f"A person's certificate is corrected at most {MAX_APPROVED_CORRECTIONS} times."
        )
    correction = Correction(
        certificate_id=certificate.id,
        user_id=user.id,
        member_id=vaccination.member_id,
        name=name,
        date_of_birth=date_of_birth,
        reason=reason,
    )
    db.session.add(correction)
    db.session.flush()
    _record("correction.requested", user, correction)
    db.session.commit()
    return correction


def _record(event: str, actor: User, correction: Correction, **details) -> None:
    record(
        event,
        actor_id=actor.id,
        subject_type="correction",
        subject_id=correction.id,
        details={"certificate_id": correction.certificate_id, **details},
    )


def search(status: str | None, page: int, page_size: int) -> tuple[list[Correction], int]:
    """One page of corrections, oldest first, optionally of one status; and the total."""
    query = select(Correction)
    if status is not None:
        query = query.where(Correction.status == status)
    return page_of(query.order_by(Correction.id), page, page_size)


def _reviewable(admin: User, correction_id: int) -> Correction:
    correction = db.session.get(Correction, correction_id)
    if correction is None:
        raise NotFound("No such correction.")
    if correction.user_id == admin.id:
        raise Forbidden("You cannot review a correction of your own record; another admin must.")
    if correction.status != CorrectionStatus.PENDING:
        raise StateConflict(
            f"Only a pending correction can be reviewed; this one is {correction.status}."
        )
    return correction


def _decide(correction: Correction, status: CorrectionStatus, admin: User, **values) -> None:
    """Move the correction out of pending in one conditional UPDATE; 409 if a racer did first."""
    result = db.session.execute(
        update(Correction)
        .where(Correction.id == correction.id, Correction.status == CorrectionStatus.PENDING)
        .values(status=status, reviewed_by_id=admin.id, reviewed_at=clock.utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise StateConflict("This correction has just been reviewed.")


def approve(admin: User, correction_id: int) -> Correction:
    """Correct the person's record and issue a certificate superseding the old one."""
    correction = _reviewable(admin, correction_id)
    _lock_person(correction.user_id)
    approved = _count(correction.user_id, correction.member_id, CorrectionStatus.APPROVED)
    if approved >= MAX_APPROVED_CORRECTIONS:
        raise CorrectionLimitReached(
            f"This person's record was corrected {approved} times already, the most allowed."
        )
    old = correction.certificate
    revoked = db.session.execute(
        update(Certificate)
        .where(Certificate.id == old.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow(), revoke_reason=SUPERSEDED, revoked_by_id=admin.id)
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount != 1:
        db.session.rollback()
        raise StateConflict("The certificate was revoked meanwhile; nothing was corrected.")
    vaccination = old.vaccination
    person = vaccination.holder
    if correction.name is not None:
        person.name = correction.name
    if correction.date_of_birth is not None:
        person.date_of_birth = correction.date_of_birth
    new = issue_certificate(vaccination)
    db.session.add(new)
    db.session.flush()
    db.session.execute(
        update(Certificate).where(Certificate.id == old.id).values(superseded_by_id=new.id)
    )
    _decide(correction, CorrectionStatus.APPROVED, admin, new_certificate_id=new.id)
    _record("correction.approved", admin, correction, new_certificate_id=new.id)
    db.session.commit()
    db.session.refresh(correction)
    return correction


def reject(admin: User, correction_id: int, reason: str) -> Correction:
    """Refuse a correction with a reason; the certificate stays as it is."""
    correction = _reviewable(admin, correction_id)
    _decide(correction, CorrectionStatus.REJECTED, admin, rejection_reason=reason)
    _record("correction.rejected", admin, correction)
    db.session.commit()
    db.session.refresh(correction)
    return correction
