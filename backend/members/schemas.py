"""Payloads of the members blueprint."""

from marshmallow import Schema, fields, validate

from backend.models.member import RELATIONS
from backend.privacy.masking import MaskedBirthDate, MaskedNid
from backend.validation import BirthDate, NationalId, Text

NID_DESCRIPTION = "National ID, or a child's 17-digit birth registration number"


class MemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    nid = fields.String()
    date_of_birth = fields.Date()
    relation = fields.String(metadata={"enum": list(RELATIONS)})
    created_at = fields.DateTime()


class MemberViewSchema(MemberSchema):
    """A family member as an admin sees them: masked unless revealed, and whose member."""

    user_id = fields.Integer(metadata={"description": "The account that manages the member"})
    nid = MaskedNid()
    date_of_birth = MaskedBirthDate()


class MemberCreateSchema(Schema):
    name = Text(required=True, max_length=120)
    nid = NationalId(required=True, metadata={"description": NID_DESCRIPTION})
    date_of_birth = BirthDate(required=True)
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))


class MemberUpdateSchema(Schema):
    name = Text(max_length=120)
    nid = NationalId(metadata={"description": f"{NID_DESCRIPTION}; fixed once it has records"})
    date_of_birth = BirthDate(metadata={"description": "Fixed once the member has records"})
    relation = fields.String(validate=validate.OneOf(RELATIONS))
