"""Payloads of the prototype's routes, in the shapes its web clients read."""

from marshmallow import EXCLUDE, Schema, fields, validate

from backend.legacy.links import certificate_link
from backend.legacy.services import has_live_certificate
from backend.models import Status
from backend.users.schemas import UserSchema
from backend.vaccination.schemas import identifier


class PrototypeTokenSchema(Schema):
    """The prototype's clients send the access token in the body; other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    token = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=8192),
        metadata={"description": "The access token from POST /login (not a header)"},
    )


class PrototypeApprovalSchema(PrototypeTokenSchema):
    vaccination_id = identifier(strict=False, required=True)


class PrototypeSuccessSchema(Schema):
    success = fields.Boolean(required=True)


def _vaccination_date(vaccination):
    """When the dose was given; before approval, the day asked for (the prototype had one)."""
    given = vaccination.vaccination_date or vaccination.preferred_date
    return given.isoformat() if given else None


def _certificate_url(vaccination):
    if not has_live_certificate(vaccination):
        return None
    return certificate_link(vaccination.certificate.id)


class PrototypeVaccinationSchema(Schema):
    """A registration as the prototype's vaccine service showed it."""

    id = fields.Integer()
    user_id = fields.Integer()
    vaccination_date = fields.Function(
        _vaccination_date,
        allow_none=True,
        metadata={"type": "string", "format": "date", "description": _vaccination_date.__doc__},
    )
    vaccine_id = fields.Integer()
    verified = fields.Function(
        lambda vaccination: vaccination.status == Status.APPROVED,
        metadata={"type": "boolean", "description": "Approved (and not revoked)"},
    )
    created_at = fields.DateTime()
    certificate_url = fields.Function(
        _certificate_url,
        allow_none=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": "A signed link to the certificate PDF, working for whoever holds it"
            " until CERTIFICATE_LINK_HOURS pass; null until approved or once revoked",
        },
    )


class PrototypeProfileSchema(UserSchema):
    phone = fields.String(
        attribute="phone_number",
        dump_only=True,
        allow_none=True,
        metadata={"description": "= phone_number"},
    )
