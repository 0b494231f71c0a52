"""Payloads of the sessions blueprint: one schema per use case."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.models import SessionStatus
from backend.vaccination.schemas import identifier
from backend.validation import Text

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BULK_MAX_DAYS = 92


class SessionCenterSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    address = fields.String()


class SessionVaccineSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class SessionSchema(Schema):
    id = fields.Integer()
    center = fields.Nested(SessionCenterSchema)
    vaccine = fields.Nested(SessionVaccineSchema)
    date = fields.Date()
    capacity = fields.Integer()
    booked = fields.Integer()
    available = fields.Integer(metadata={"description": "capacity - booked; 0 once cancelled"})
    min_age = fields.Method(
        "effective_min_age", metadata={"description": "The session's or the vaccine's, higher"}
    )
    max_age = fields.Function(lambda session: session.vaccine.max_age, allow_none=True)
    status = fields.String(metadata={"enum": [status.value for status in SessionStatus]})

    @staticmethod
    def effective_min_age(session) -> int:
        return max(session.min_age or 0, session.vaccine.min_age)


class SessionCreateSchema(Schema):
    center_id = identifier(required=True)
    vaccine_id = identifier(required=True)
    date = fields.Date(required=True, metadata={"description": "Today or later, within a year"})
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 100_000))
    min_age = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 150)
    )


class SessionBulkSchema(Schema):
    center_id = identifier(required=True)
    vaccine_id = identifier(required=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True, metadata={"description": "Inclusive"})
    weekdays = fields.List(
        fields.String(validate=validate.OneOf(WEEKDAYS)),
        load_default=list(WEEKDAYS),
        validate=validate.Length(min=1, max=7),
        metadata={"description": "Days of the week to hold a session on; default every day"},
    )
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 100_000))
    min_age = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 150)
    )

    @validates_schema
    def short_range(self, data, **kwargs):
        if "date_from" in data and "date_to" in data:
            days = (data["date_to"] - data["date_from"]).days
            if not 0 <= days < BULK_MAX_DAYS:
                message = f"date_to is on or after date_from, at most {BULK_MAX_DAYS} days on."
                raise ValidationError(message, field_name="date_to")


class SessionUpdateSchema(Schema):
    capacity = fields.Integer(strict=True, validate=validate.Range(1, 100_000))
    min_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 150))


class SessionQuerySchema(Schema):
    city = Text(max_length=80, metadata={"description": "The center's city, ignoring case"})
    center_id = identifier(strict=False)
    vaccine_id = identifier(strict=False)
    date_from = fields.Date(metadata={"description": "Inclusive; default today"})
    date_to = fields.Date(metadata={"description": "Inclusive"})
    age = fields.Integer(
        validate=validate.Range(0, 150),
        metadata={"description": "Only sessions a person of this age may book"},
    )
