"""The prototype's routes (deprecated): its vaccine service under /legacy/vaccine, and /profile.

The prototype ran the vaccine service on a host of its own, whose `POST /create` would clash
with the account service's; its clients point their vaccine base URL at /legacy/vaccine.
Its clients send the access token as `token` in the JSON body; it is verified exactly as the
Authorization header is elsewhere.
"""

from __future__ import annotations

from functools import wraps

from flask import Response, g, request
from flask_smorest import abort

from backend.api import Blueprint, refuse_unenrolled_staff
from backend.auth.tokens import authenticate, current_user, unauthorized
from backend.legacy import links, services
from backend.legacy.schemas import (
    PrototypeApprovalSchema,
    PrototypeProfileSchema,
    PrototypeSuccessSchema,
    PrototypeTokenSchema,
    PrototypeVaccinationSchema,
)
from backend.models import Role
from backend.models.user import PERSONAL_ROLES
from backend.vaccination import pdf
from backend.vaccination import services as vaccinations

TAG = "Prototype (deprecated)"
VACCINE = "/legacy/vaccine"
PDF_SCHEMA = {"type": "string", "format": "binary"}
SUCCESS = {"success": True}


class PrototypeBlueprint(Blueprint):
    """Routes kept for the prototype's clients: deprecated, and authenticated their way."""

    def deprecated_route(self, rule: str, **options):
        """`route`, documented as deprecated under the prototype's tag."""

        def decorator(func):
            return self.route(rule, tags=[TAG], **options)(self.doc(deprecated=True)(func))

        return decorator

    def body_token_required(self, func=None, *, role: Role | tuple[Role, ...] | None = None):
        """Require a valid access token as `token` in the JSON body (and `role`); 401/403."""
        roles = (role,) if isinstance(role, Role) else role

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                body = request.get_json(silent=True)
                token = body.get("token") if isinstance(body, dict) else None
                if token is None or token == "":
                    unauthorized(
                        "Send the access token as `token` in the JSON body.", token_presented=False
                    )
                if not isinstance(token, str):
                    unauthorized("The token is invalid.", token_presented=True)
                user = authenticate(token)
                refuse_unenrolled_staff(user)
                if roles is not None and user["role_id"] not in roles:
                    abort(403, message="This action needs the admin role.")
                return func(*args, **kwargs)

            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if role is not None:
                wrapper = self.alt_response(403, response="FORBIDDEN")(wrapper)
            return wrapper

        return decorator(func) if func is not None else decorator


blp = PrototypeBlueprint(
    "legacy", __name__, description="The prototype's routes, kept for its web clients (deprecated)"
)


@blp.deprecated_route("/profile")
@blp.login_required
@blp.response(200, PrototypeProfileSchema)
def profile():
    """The signed-in account's profile, with `phone` too (use GET /users/me)"""
    return g.caller


@blp.deprecated_route(f"{VACCINE}/create", methods=["POST"])
@blp.body_token_required(role=PERSONAL_ROLES)
@blp.arguments(PrototypeTokenSchema)
@blp.response(201, PrototypeSuccessSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def create(fields):
    """Register the caller's next dose: earlier vaccine, default center (use POST /vaccinations)"""
    services.register_next_dose(current_user())
    return SUCCESS


@blp.deprecated_route(f"{VACCINE}/myvaccine", methods=["POST"])
@blp.body_token_required
@blp.arguments(PrototypeTokenSchema)
@blp.response(201, PrototypeVaccinationSchema(many=True))
def my_vaccine(fields):
    """The caller's latest registration, alone in a list (use GET /vaccinations/me)"""
    return services.latest_registration(current_user())


@blp.deprecated_route(f"{VACCINE}/allvaccines", methods=["POST"])
@blp.body_token_required(role=Role.ADMIN)
@blp.arguments(PrototypeTokenSchema)
@blp.response(200, PrototypeVaccinationSchema(many=True))
def all_vaccines(fields):
    """The newest 1000 registrations, newest first (admin; use GET /vaccinations)"""
    return services.newest_registrations()


@blp.deprecated_route(f"{VACCINE}/approve", methods=["POST"])
@blp.body_token_required(role=Role.ADMIN)
@blp.arguments(PrototypeApprovalSchema)
@blp.response(200, PrototypeSuccessSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def approve(fields):
    """Approve a registration and issue its certificate (admin; use /vaccinations/<id>/approve)"""
    vaccinations.approve(current_user(), fields["vaccination_id"], None)
    return SUCCESS


@blp.deprecated_route(f"{VACCINE}/certificates/<link>")
@blp.alt_response(200, schema=PDF_SCHEMA, content_type="application/pdf", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(410, response="GONE")
def certificate(link):
    """The certificate PDF a signed `certificate_url` names, without a token, until it expires"""
    vaccination = services.linked_certificate(links.certificate_id_from(link))
    body = pdf.certificate_pdf(vaccination, vaccinations.doses_up_to(vaccination))
    disposition = f'inline; filename="certificate-{vaccination.certificate.id}.pdf"'
    headers = {
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return Response(body, mimetype="application/pdf", headers=headers)
