"""The administrations blueprint: vaccinators record doses given at their center."""

from __future__ import annotations

from backend.administrations import services, walk_ins
from backend.administrations.schemas import AdministerSchema, DoseSchema, WalkInSchema
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


@blp.route("/administrations", methods=["POST"])
@blp.vaccinator_required
@blp.arguments(WalkInSchema)
@blp.response(201, DoseSchema)
@blp.alt_response(409, response="CONFLICT")
def walk_in(fields):
    """Record a dose given to a walk-in at the vaccinator's center, found or filed by NID"""
    return walk_ins.administer(current_user(), **fields)
