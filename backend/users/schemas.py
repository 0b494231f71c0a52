"""Payloads of the users blueprint."""

from marshmallow import Schema, fields, validate

from backend.auth.schemas import CodeField
from backend.privacy.masking import MaskedBirthDate, MaskedNid, MaskedPhone, WithheldAddress
from backend.validation import BirthDate, Email, Password, PhoneNumber, Text


class UserSchema(Schema):
    """An account as its owner sees it (the password hash is never part of it)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.String()
    role_id = fields.Integer(metadata={"description": "1 citizen, 2 admin"})
    address = fields.String(allow_none=True)
    nid = fields.String(allow_none=True)
    phone_number = fields.String(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    verified = fields.Boolean()
    mfa_enabled = fields.Boolean(dump_only=True, metadata={"description": "Two-factor sign-in"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AccountViewSchema(UserSchema):
    """An account as an admin sees it: the same keys, personal values masked unless revealed."""

    address = WithheldAddress()
    nid = MaskedNid()
    phone_number = MaskedPhone()
    date_of_birth = MaskedBirthDate()


class UserQuerySchema(Schema):
    q = Text(max_length=100, metadata={"description": "Part of the name, email or national ID"})


class ProfileUpdateSchema(Schema):
    """What an account may change about itself; anything else (role_id, email...) is a 422."""

    name = Text(max_length=120)
    address = Text(max_length=255, min_length=0, allow_none=True)
    phone_number = PhoneNumber()
    date_of_birth = BirthDate(
        metadata={"description": "Set once; after that only a health officer corrects it"}
    )
    current_password = fields.String(
        load_only=True,
        validate=validate.Length(max=1024),
        metadata={"description": "Required when phone_number changes (a recovery channel)"},
    )


class AdminUserUpdateSchema(Schema):
    name = Text(max_length=120)
    address = Text(max_length=255, min_length=0, allow_none=True)
    phone_number = PhoneNumber()
    date_of_birth = BirthDate(allow_none=True)
    verified = fields.Boolean()


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=1024))
    new_password = Password(required=True)


class PasswordConfirmSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(max=1024))


class EmailChangeSchema(Schema):
    new_email = Email(required=True, metadata={"description": "A code is sent to it"})
    current_password = fields.String(required=True, validate=validate.Length(max=1024))


class EmailChangeCodeSchema(Schema):
    code = CodeField(required=True)
