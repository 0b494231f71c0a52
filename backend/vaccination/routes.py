"""The vaccinations blueprint: register for a dose, review registrations, download certificates."""

from __future__ import annotations

from flask import Response, request

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.vaccination import pdf, services
from backend.vaccination.schemas import (
    ApproveSchema,
    CertificateSchema,
    ReasonSchema,
    VaccinationCreateSchema,
    VaccinationQuerySchema,
    VaccinationSchema,
)

blp = Blueprint(
    "vaccinations", __name__, url_prefix="/vaccinations", description="Registrations and review"
)
ID = "/<id:vaccination_id>"
PDF_SCHEMA = {"type": "string", "format": "binary"}
CERTIFICATE_FORMATS = "A one-page PDF by default; JSON with `Accept: application/json`"


@blp.route("", methods=["POST"])
@blp.personal_required
@blp.arguments(VaccinationCreateSchema)
@blp.response(201, VaccinationSchema)
@blp.alt_response(409, response="CONFLICT")
def register(fields):
    """Register the signed-in account for its next dose"""
    return services.register(current_user(), **fields)


@blp.route("/me")
@blp.login_required
@blp.response(200, VaccinationSchema(many=True))
def mine():
    """The signed-in account's registrations, newest first"""
    return services.own_vaccinations(current_user())


@blp.route("")
@blp.admin_required
@blp.arguments(VaccinationQuerySchema, location="query")
@blp.response(200, VaccinationSchema(many=True))
@blp.paginate()
def list_vaccinations(filters, pagination_parameters):
    """All registrations, newest first, filtered by status, center, city or date (admin)"""
    vaccinations, total = services.search(
        filters, pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return vaccinations


@blp.route(ID)
@blp.login_required
@blp.response(200, VaccinationSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_vaccination(vaccination_id):
    """One registration (its owner or an admin)"""
    return services.visible_vaccination(current_user(), vaccination_id)


@blp.route(ID, methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel(vaccination_id):
    """Cancel one's own pending registration"""
    services.cancel(current_user(), vaccination_id)


@blp.route(f"{ID}/approve", methods=["POST"])
@blp.admin_required
@blp.arguments(ApproveSchema, required=False)
@blp.response(200, VaccinationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def approve(fields, vaccination_id):
    """Approve a pending registration and issue its certificate (admin, never one's own)"""
    return services.approve(current_user(), vaccination_id, fields.get("vaccination_date"))


@blp.route(f"{ID}/reject", methods=["POST"])
@blp.admin_required
@blp.arguments(ReasonSchema)
@blp.response(200, VaccinationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reject(fields, vaccination_id):
    """Reject a pending registration with a reason (admin, never one's own)"""
    return services.reject(current_user(), vaccination_id, fields["reason"])


@blp.route(f"{ID}/revoke", methods=["POST"])
@blp.admin_required
@blp.arguments(ReasonSchema)
@blp.response(200, VaccinationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def revoke(fields, vaccination_id):
    """Revoke the certificate of a record entered in error (admin)"""
    return services.revoke(current_user(), vaccination_id, fields["reason"])


@blp.route(f"{ID}/certificate")
@blp.login_required
@blp.response(200, CertificateSchema, description=CERTIFICATE_FORMATS)
@blp.alt_response(
    200,
    schema=PDF_SCHEMA,
    content_type="application/pdf",
    description=CERTIFICATE_FORMATS,
    success=True,
)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def certificate(vaccination_id):
    """The certificate of an approved registration: a PDF, or the signed token as JSON"""
    vaccination = services.certificate_of(current_user(), vaccination_id)
    if request.accept_mimetypes.best_match(["application/pdf", "application/json"]) == (
        "application/json"
    ):
        return vaccination.certificate
    body = pdf.certificate_pdf(vaccination, services.doses_up_to(vaccination))
    disposition = f'inline; filename="certificate-{vaccination.certificate.id}.pdf"'
    headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
    return Response(body, mimetype="application/pdf", headers=headers)
