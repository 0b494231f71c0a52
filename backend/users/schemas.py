"""Payloads of the users blueprint."""

from marshmallow import Schema, fields

from backend.validation import Text


class UserSchema(Schema):
    """An account as its owner and admins see it (the password hash is never part of it)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.String()
    role_id = fields.Integer(metadata={"description": "1 citizen, 2 admin"})
    address = fields.String(allow_none=True)
    nid = fields.String(allow_none=True)
    phone_number = fields.String(allow_none=True)
    verified = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class UserQuerySchema(Schema):
    q = Text(max_length=100, metadata={"description": "Part of the name, email or national ID"})
