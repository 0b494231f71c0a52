"""Payloads of privacy: an admin's reveal request."""

from marshmallow import Schema, ValidationError, fields, validates_schema

from backend.validation import Text

REASON_MAX_LENGTH = 500


class RevealQuerySchema(Schema):
    """`?reveal=true&reason=...`: the full values, for a reason on record (long numbers masked)."""

    reveal = fields.Boolean(
        load_default=False,
        metadata={"description": "Show the full NID, phone, date of birth and address (audited)"},
    )
    reason = Text(
        max_length=REASON_MAX_LENGTH,
        metadata={"description": "Required with `reveal`: why, recorded in the audit trail"},
    )

    @validates_schema
    def _reason_with_reveal(self, data, **kwargs):
        if data.get("reveal") and not (data.get("reason") or "").strip():
            raise ValidationError("Give the reason for revealing this person's details.", "reason")
