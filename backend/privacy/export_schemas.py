"""The shape of `GET /users/me/export`: the caller's own data, in full."""

from marshmallow import Schema, fields

from backend.appointments.schemas import AppointmentSchema
from backend.members.schemas import MemberSchema
from backend.users.schemas import UserSchema
from backend.vaccination.correction_schemas import CorrectionSchema
from backend.vaccination.schemas import VaccinationSchema


class ExportedMemberSchema(MemberSchema):
    removed_at = fields.DateTime(
        attribute="deleted_at", allow_none=True, metadata={"description": "Kept by the registry"}
    )


class ExportedDoseSchema(Schema):
    """A dose given: what, which one, when, where (not who gave it)."""

    vaccination_id = fields.Integer(attribute="id")
    member_id = fields.Integer(allow_none=True)
    vaccine = fields.Function(lambda dose: dose.vaccine.name)
    dose_number = fields.Integer()
    vaccination_date = fields.Date(allow_none=True)
    administered_at = fields.DateTime(allow_none=True)
    batch = fields.String(allow_none=True)
    center = fields.Function(lambda dose: dose.center.name)
    status = fields.String()


class ExportedCertificateSchema(Schema):
    certificate_id = fields.String(attribute="id")
    vaccination_id = fields.Integer()
    token = fields.String()
    key_id = fields.String()
    issued_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    superseded_by = fields.String(attribute="superseded_by_id", allow_none=True)


class ExportedReminderSchema(Schema):
    kind = fields.String()
    sent_at = fields.DateTime()


class ExportedAuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    event = fields.String()
    subject_type = fields.String(allow_none=True)
    subject_id = fields.Integer(allow_none=True)
    actor = fields.String(
        metadata={"description": '"you", "system", or the role of the staff member who acted'}
    )
    client_address = fields.String(
        allow_none=True, metadata={"description": "Only on events the caller made"}
    )
    details = fields.Dict()


class ExportSchema(Schema):
    """Everything held about the caller and their family members."""

    account = fields.Nested(UserSchema)
    members = fields.List(fields.Nested(ExportedMemberSchema))
    vaccinations = fields.List(fields.Nested(VaccinationSchema))
    appointments = fields.List(fields.Nested(AppointmentSchema))
    doses = fields.List(fields.Nested(ExportedDoseSchema))
    certificates = fields.List(fields.Nested(ExportedCertificateSchema))
    corrections = fields.List(fields.Nested(CorrectionSchema))
    reminders = fields.List(fields.Nested(ExportedReminderSchema))
    audit_events = fields.List(fields.Nested(ExportedAuditEventSchema))
