"""Payloads of the staff blueprint."""

from marshmallow import Schema, fields

from backend.vaccination.schemas import identifier
from backend.validation import Email, NationalId, Password, Text

STAFF_NID = (
    "The vaccinator's own national ID: no dose for it is recorded by this account (walk-in or"
    " appointment, on their own citizen account, a member record or a new person record)"
)


class StaffCreateSchema(Schema):
    name = Text(required=True, max_length=120)
    email = Email(required=True)
    password = Password(
        load_default=None,
        metadata={"description": "Optional: the person can set it with the password reset flow"},
    )
    center_id = identifier(required=True)
    nid = NationalId(required=True, metadata={"description": STAFF_NID})


class StaffQuerySchema(Schema):
    center_id = identifier(strict=False, metadata={"description": "Only this center's vaccinators"})


class StaffSchema(Schema):
    """A vaccinator's account as admins see it."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role_id = fields.Integer(metadata={"description": "3: vaccinator"})
    center_id = fields.Integer()
    nid = fields.String(attribute="staff_nid", metadata={"description": STAFF_NID})
    created_at = fields.DateTime()
