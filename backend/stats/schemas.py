"""Payloads of the stats blueprint."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

GROUPS = ("day", "center", "city", "vaccine", "dose_number")


class DoseStatsQuerySchema(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "First day (inclusive)"})
    to = fields.Date(metadata={"description": "Last day (inclusive)"})
    group_by = fields.String(load_default="day", validate=validate.OneOf(GROUPS))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("`from` is after `to`.", "to")


class DoseCountSchema(Schema):
    group = fields.Raw(metadata={"description": "The day, center id, city, vaccine id or dose"})
    label = fields.String(metadata={"description": "The center's or vaccine's name, the city"})
    doses = fields.Integer()


class VaccineCountSchema(Schema):
    vaccine = fields.String()
    doses = fields.Integer()


class TallySchema(Schema):
    doses = fields.Integer()
    by_vaccine = fields.List(fields.Nested(VaccineCountSchema))


class PublicStatsSchema(Schema):
    date = fields.Date(metadata={"description": "Today, in the service's time zone"})
    today = fields.Nested(TallySchema)
    total = fields.Nested(TallySchema)
