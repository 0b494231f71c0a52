"""Payloads of the staff blueprint."""

from marshmallow import Schema, ValidationError, fields, validates_schema

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


class StaffUpdateSchema(Schema):
    """What an admin may change on a staff account; email and password stay with their owner
    (email change and password reset flows), anything else is a 422."""

    name = Text(max_length=120)
    center_id = identifier(metadata={"description": "An active center to work at from now on"})
    nid = NationalId(metadata={"description": f"{STAFF_NID}. Set or replaced, never removed"})

    @validates_schema
    def changes_something(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one of name, center_id, nid.")


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
