"""Payloads of the appointments blueprint."""

from marshmallow import Schema, fields

from backend.models import AppointmentStatus, Status
from backend.sessions.schemas import SessionCenterSchema, SessionVaccineSchema
from backend.vaccination.schemas import identifier

# What a booked appointment became once its dose was reviewed.
REVIEWED = {Status.APPROVED: "completed", Status.REVOKED: "completed", Status.REJECTED: "rejected"}
STATUSES = [*AppointmentStatus, "completed", "rejected"]


class PersonSchema(Schema):
    member_id = fields.Integer(allow_none=True, metadata={"description": "null: the holder"})
    name = fields.String()


class AppointmentSessionSchema(Schema):
    id = fields.Integer()
    date = fields.Date()
    center = fields.Nested(SessionCenterSchema)
    vaccine = fields.Nested(SessionVaccineSchema)


class AppointmentSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    session = fields.Nested(AppointmentSessionSchema)
    person = fields.Method("person_of", metadata={"description": "Whom it is for"})
    dose_number = fields.Function(lambda appointment: appointment.vaccination.dose_number)
    vaccination_id = fields.Integer(metadata={"description": "The dose's registration"})
    status = fields.Method("status_of", metadata={"enum": STATUSES})
    code = fields.String(metadata={"description": "Four digits, asked for at the center"})
    reschedules = fields.Integer()
    created_at = fields.DateTime()

    @staticmethod
    def person_of(appointment) -> dict:
        holder = appointment.vaccination.holder
        return {"member_id": appointment.vaccination.member_id, "name": holder.name}

    @staticmethod
    def status_of(appointment) -> str:
        if appointment.status == AppointmentStatus.CANCELLED:
            return appointment.status
        return REVIEWED.get(appointment.vaccination.status, appointment.status)


class SessionAppointmentSchema(AppointmentSchema):
    """An appointment in an officer's list: no code (the person brings it)."""

    class Meta:
        exclude = ("code", "session")


class BookingSchema(Schema):
    session_id = identifier(required=True)
    member_id = identifier(load_default=None, allow_none=True)


class RescheduleSchema(Schema):
    session_id = identifier(required=True)
