"""Payloads of certificate corrections: the holder's request, the admin's list and review."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.models import CorrectionStatus
from backend.validation import BirthDate, Text

STATUSES = [status.value for status in CorrectionStatus]


class CorrectionRequestSchema(Schema):
    name = Text(max_length=120, metadata={"description": "The name as it should read"})
    date_of_birth = BirthDate()
    reason = Text(required=True, max_length=500)

    @validates_schema
    def _something_to_correct(self, data, **kwargs):
        if "name" not in data and "date_of_birth" not in data:
            raise ValidationError("Give the corrected name, date of birth, or both.", "name")


class CorrectionSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": STATUSES})
    certificate_id = fields.String(metadata={"description": "The certificate to correct"})
    user_id = fields.Integer()
    member_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    reason = fields.String()
    requested_at = fields.DateTime()
    reviewed_by_id = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    new_certificate_id = fields.String(
        allow_none=True, metadata={"description": "Issued on approval; it supersedes the old one"}
    )


class CorrectionQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
