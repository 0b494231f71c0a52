"""The administrations blueprint: vaccinators record doses given at their center."""

from __future__ import annotations

from backend.administrations import services
from backend.administrations.schemas import AdministerSchema, DoseSchema
from backend.api import Blueprint
from backend.auth.tokens import current_user

blp = Blueprint("administrations", __name__, description="Doses given by vaccinators")


@blp.route("/appointments/<id:appointment_id>/administer", methods=["POST"])
@blp.vaccinator_required
@blp.arguments(AdministerSchema)
@blp.response(200, DoseSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def administer(fields, appointment_id):
    """Record an appointment's dose as given, with the person's code (vaccinator, session's day)"""
    return services.administer(current_user(), appointment_id, **fields)
