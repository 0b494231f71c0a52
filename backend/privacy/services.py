"""Audited reveals: an admin sees a person's full details only with a reason on record."""

from __future__ import annotations

from backend.audit.services import record
from backend.extensions import db
from backend.models import Member, User
from backend.privacy.masking import Revealed, mask_numbers

REVEALED_FIELDS = ["address", "date_of_birth", "nid", "phone_number"]


def shown(person: User | Member, officer: User, *, reveal: bool = False, reason: str = ""):
    """`person` as an admin's answer shows it: masked, or in full once the reveal is recorded.

    The audit event names the officer (actor), the person (subject) and the reason as typed,
    but for long numbers in it (an ID or phone typed into the reason), masked like an ID.
    """
    if not reveal:
        return person
    kind = "member" if isinstance(person, Member) else "user"
    fields = REVEALED_FIELDS if kind == "user" else ["date_of_birth", "nid"]
    record(
        "person.revealed",
        actor_id=officer.id,
        subject_type=kind,
        subject_id=person.id,
        details={"reason": mask_numbers(reason), "fields": fields},
    )
    db.session.commit()
    return Revealed(person)
