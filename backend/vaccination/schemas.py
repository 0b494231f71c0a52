"""Payloads of the vaccination blueprints: one schema per use case."""

from marshmallow import Schema, fields, validate

from backend.models import Status
from backend.validation import Text


def identifier(*, strict: bool = True, **kwargs) -> fields.Integer:
    """An id as the database holds it: a positive 32-bit integer (JSON numbers only if strict)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=2147483647), **kwargs)


class VaccineSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    manufacturer = fields.String()
    doses_required = fields.Integer()
    dose_interval_days = fields.Integer(metadata={"description": "Minimum days between doses"})
    min_age = fields.Integer(metadata={"description": "Youngest eligible age (years)"})
    max_age = fields.Integer(allow_none=True, metadata={"description": "Oldest; null: none"})
    booster_interval_days = fields.Integer(
        allow_none=True,
        metadata={"description": "Days after the primary series before a booster; null: none"},
    )


class VaccineUpdateSchema(Schema):
    name = Text(max_length=80)
    manufacturer = Text(max_length=120)
    doses_required = fields.Integer(strict=True, validate=validate.Range(1, 10))
    dose_interval_days = fields.Integer(strict=True, validate=validate.Range(0, 3650))
    min_age = fields.Integer(strict=True, validate=validate.Range(0, 150))
    max_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 150))
    booster_interval_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, 3650)
    )


class VaccineCreateSchema(Schema):
    name = Text(required=True, max_length=80)
    manufacturer = Text(required=True, max_length=120)
    doses_required = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10))
    dose_interval_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 3650)
    )
    min_age = fields.Integer(strict=True, load_default=18, validate=validate.Range(0, 150))
    max_age = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 150)
    )
    booster_interval_days = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 3650)
    )


class CenterSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    city = fields.String()
    address = fields.String()
    active = fields.Boolean()


class CenterCreateSchema(Schema):
    name = Text(required=True, max_length=120)
    city = Text(required=True, max_length=80)
    address = Text(required=True, max_length=255)
    active = fields.Boolean(load_default=True)


class CenterUpdateSchema(Schema):
    name = Text(max_length=120)
    city = Text(max_length=80)
    address = Text(max_length=255)
    active = fields.Boolean()


class CenterQuerySchema(Schema):
    city = Text(max_length=80, metadata={"description": "City, ignoring letter case"})
    q = Text(max_length=100, metadata={"description": "Part of the name or address"})
    include_inactive = fields.Boolean(load_default=False)


class CertificateSummarySchema(Schema):
    certificate_id = fields.String(attribute="id")
    issued_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class VaccinationSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    member_id = fields.Integer(
        allow_none=True, metadata={"description": "The family member it is for; null: the holder"}
    )
    status = fields.String(metadata={"enum": [status.value for status in Status]})
    dose_number = fields.Integer()
    vaccine = fields.Nested(VaccineSchema)
    center = fields.Nested(CenterSchema)
    preferred_date = fields.Date(allow_none=True)
    vaccination_date = fields.Date(allow_none=True)
    reviewed_by_id = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    certificate = fields.Nested(CertificateSummarySchema, allow_none=True)
    created_at = fields.DateTime()


class VaccinationCreateSchema(Schema):
    center_id = identifier(required=True)
    vaccine_id = identifier(required=True)
    preferred_date = fields.Date(
        load_default=None, metadata={"description": "Today or later, within a year"}
    )


class VaccinationQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([status.value for status in Status]))
    center_id = identifier(strict=False)
    city = Text(max_length=80, metadata={"description": "The center's city, ignoring case"})
    date_from = fields.Date(metadata={"description": "Registered on or after (UTC)"})
    date_to = fields.Date(metadata={"description": "Registered on or before (UTC)"})


class ApproveSchema(Schema):
    vaccination_date = fields.Date(
        load_default=None, metadata={"description": "When the dose was given; default today"}
    )


class ReasonSchema(Schema):
    reason = Text(required=True, max_length=500)


class CertificateSchema(Schema):
    certificate_id = fields.String(attribute="id")
    token = fields.String(metadata={"description": "Compact JWS (EdDSA), also in the PDF's QR"})
    key_id = fields.String()
    issued_at = fields.DateTime()


class VerifyRequestSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=8000))


class VerificationSchema(Schema):
    """`valid` and, when valid, the certificate's claims; when not, the `reason`."""

    class Meta:
        unknown = "include"

    valid = fields.Boolean(required=True)
    reason = fields.String(
        metadata={
            "enum": ["malformed", "unknown_key", "bad_signature", "unknown_certificate", "revoked"]
        }
    )
    revoked_at = fields.DateTime()
    revoke_reason = fields.String(metadata={"description": "`superseded`: see superseded_by"})
    superseded_by = fields.String(metadata={"description": "The certificate that replaced it"})
    certificate_id = fields.String()
    holder = fields.String()
    date_of_birth = fields.String(allow_none=True)
    nid = fields.String(allow_none=True, metadata={"description": "Masked: last 4 digits"})
    vaccine = fields.String()
    manufacturer = fields.String()
    dose_number = fields.Integer()
    doses_required = fields.Integer()
    vaccination_date = fields.String()
    center = fields.String()
    iss = fields.String()
    iat = fields.Integer()
    jti = fields.String()


class RevokedCertificateSchema(Schema):
    certificate_id = fields.String(attribute="id")
    revoked_at = fields.DateTime()
    superseded_by = fields.String(attribute="superseded_by_id", allow_none=True)


class JwkSchema(Schema):
    kty = fields.String()
    crv = fields.String()
    x = fields.String()
    kid = fields.String()
    use = fields.String()
    alg = fields.String()


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema))
