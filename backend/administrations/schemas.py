"""Payloads of the administrations blueprint."""

from marshmallow import Schema, fields, validate

from backend.privacy.masking import mask_nid
from backend.sessions.calendar import age_on
from backend.vaccination.schemas import identifier
from backend.validation import BirthDate, NationalId, Text


def batch_field() -> Text:
    return Text(required=True, max_length=64, metadata={"description": "The vial's batch/lot"})


class AdministerSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{4}$", error="Four digits."),
        metadata={"description": "The four digits of the person's appointment"},
    )
    batch = batch_field()
    administered_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Default: now; on the session's day"}
    )


class WalkInSchema(Schema):
    nid = NationalId(required=True)
    name = Text(required=True, max_length=120)
    date_of_birth = BirthDate(required=True)
    vaccine_id = identifier(required=True)
    batch = batch_field()


def _age(dose) -> int | None:
    """The person's age on the day of the dose (unknown without a date of birth)."""
    born, day = dose.holder.date_of_birth, dose.vaccination_date
    if born is None or day is None:
        return None
    return age_on(born, day)


class DoseSchema(Schema):
    """A dose as given: what, which one, when, where and by whom. Of the person, only what the
    vaccinator needs to tell them apart: name, masked NID, age (never the date of birth)."""

    vaccination_id = fields.Integer(attribute="id")
    person = fields.Function(lambda dose: dose.holder.name)
    nid = fields.Function(
        lambda dose: mask_nid(dose.holder.nid),
        allow_none=True,
        metadata={"type": "string", "description": "The person's NID, masked (`*********4321`)"},
    )
    age = fields.Function(
        _age,
        allow_none=True,
        metadata={"type": "integer", "description": "The person's age on the day of the dose"},
    )
    vaccine = fields.Function(lambda dose: dose.vaccine.name)
    dose_number = fields.Integer()
    batch = fields.String()
    administered_at = fields.DateTime()
    vaccination_date = fields.Date()
    center_id = fields.Integer()
    administered_by_id = fields.Integer(metadata={"description": "The vaccinator"})
    certificate_id = fields.Function(lambda dose: dose.certificate.id if dose.certificate else None)
