"""The corrections blueprint: holders ask to correct a certificate; admins approve or reject."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.vaccination import corrections
from backend.vaccination.correction_schemas import (
    CorrectionQuerySchema,
    CorrectionRequestSchema,
    CorrectionSchema,
)
from backend.vaccination.schemas import ReasonSchema

blp = Blueprint("corrections", __name__, description="Corrections of names and birth dates")
ID = "/corrections/<id:correction_id>"


@blp.route("/certificates/<string:certificate_id>/corrections", methods=["POST"])
@blp.login_required
@blp.arguments(CorrectionRequestSchema)
@blp.response(202, CorrectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def request_correction(fields, certificate_id):
    """Ask for a corrected certificate (its holder); an admin reviews the request"""
    return corrections.request_correction(current_user(), certificate_id, **fields)


@blp.route("/corrections")
@blp.admin_required
@blp.arguments(CorrectionQuerySchema, location="query")
@blp.response(200, CorrectionSchema(many=True))
@blp.paginate()
def list_corrections(filters, pagination_parameters):
    """Correction requests, oldest first, optionally of one status (admin)"""
    found, total = corrections.search(
        filters.get("status"), pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return found


@blp.route(f"{ID}/approve", methods=["POST"])
@blp.admin_required
@blp.response(200, CorrectionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def approve(correction_id):
    """Approve: issue a new certificate that supersedes the old one (admin, never one's own)"""
    return corrections.approve(current_user(), correction_id)


@blp.route(f"{ID}/reject", methods=["POST"])
@blp.admin_required
@blp.arguments(ReasonSchema)
@blp.response(200, CorrectionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reject(fields, correction_id):
    """Reject a correction with a reason (admin, never one's own)"""
    return corrections.reject(current_user(), correction_id, fields["reason"])
