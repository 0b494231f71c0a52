"""Payloads of the audit blueprint."""

from marshmallow import Schema, fields, validate


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    event = fields.String()
    actor_id = fields.Integer(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.Integer(allow_none=True)
    client_address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class AuditQuerySchema(Schema):
    actor_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    subject_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    event = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with a time zone"})
