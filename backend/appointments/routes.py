"""The appointments blueprint: book, list, reschedule and cancel places in sessions."""

from __future__ import annotations

from backend.api import Blueprint
from backend.appointments import services
from backend.appointments.schemas import (
    AppointmentSchema,
    BookingSchema,
    RescheduleSchema,
    SessionAppointmentSchema,
)
from backend.auth.tokens import current_user
from backend.sessions.services import get_session

blp = Blueprint("appointments", __name__, description="Appointments in sessions")
ID = "/appointments/<id:appointment_id>"


@blp.route("/appointments", methods=["POST"])
@blp.personal_required
@blp.arguments(BookingSchema)
@blp.response(201, AppointmentSchema)
@blp.alt_response(409, response="CONFLICT")
def book(fields):
    """Book a place in a session for oneself or a family member (`member_id`)"""
    return services.book(current_user(), fields["session_id"], fields["member_id"])


@blp.route("/appointments/me")
@blp.login_required
@blp.response(200, AppointmentSchema(many=True))
def mine():
    """The signed-in account's and its members' appointments, newest first"""
    return services.mine(current_user())


@blp.route(ID, methods=["PATCH"])
@blp.login_required
@blp.arguments(RescheduleSchema)
@blp.response(200, AppointmentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reschedule(fields, appointment_id):
    """Move an appointment to another session (at most 3 times)"""
    return services.reschedule(current_user(), appointment_id, fields["session_id"])


@blp.route(ID, methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel(appointment_id):
    """Cancel an appointment; its place goes back to the session at once"""
    services.cancel(current_user(), appointment_id)


@blp.route("/sessions/<id:session_id>/appointments")
@blp.admin_required
@blp.response(200, SessionAppointmentSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
@blp.paginate()
def of_session(session_id, pagination_parameters):
    """A session's appointments in booking order (admin)"""
    get_session(session_id)
    appointments, total = services.of_session(
        session_id, pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return appointments
