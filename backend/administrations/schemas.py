"""Payloads of the administrations blueprint."""

from marshmallow import Schema, fields, validate

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


class DoseSchema(Schema):
    """A dose as given: what, which one, when, where and by whom."""

    vaccination_id = fields.Integer(attribute="id")
    person = fields.Function(lambda dose: dose.holder.name)
    vaccine = fields.Function(lambda dose: dose.vaccine.name)
    dose_number = fields.Integer()
    batch = fields.String()
    administered_at = fields.DateTime()
    vaccination_date = fields.Date()
    center_id = fields.Integer()
    administered_by_id = fields.Integer(metadata={"description": "The vaccinator"})
    certificate_id = fields.Function(lambda dose: dose.certificate.id if dose.certificate else None)
