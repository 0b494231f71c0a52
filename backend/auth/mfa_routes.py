"""Two-factor sign-in (TOTP) for the caller's own account: enrol, confirm, turn off."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth import mfa
from backend.auth.schemas import (
    PasswordProofSchema,
    RecoveryCodesSchema,
    TotpCodeSchema,
    TotpDisableSchema,
    TotpEnrolmentSchema,
)
from backend.auth.tokens import current_user

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # secrets and codes

blp = Blueprint(
    "mfa", __name__, url_prefix="/users/me/mfa", description="Two-factor sign-in (TOTP)"
)


@blp.route("/totp", methods=["POST"])
@blp.login_required(before_enrolment=True)
@blp.arguments(PasswordProofSchema)
@blp.response(201, TotpEnrolmentSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(409, response="CONFLICT")
def start_totp(fields):
    """Start enrolling an authenticator app: a new secret, its otpauth URI and QR code"""
    return mfa.start_enrolment(current_user(), fields["current_password"]), 201, NO_STORE


@blp.route("/totp/confirm", methods=["POST"])
@blp.login_required(before_enrolment=True)
@blp.arguments(TotpCodeSchema)
@blp.response(200, RecoveryCodesSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(409, response="CONFLICT")
def confirm_totp(fields):
    """Turn two-factor sign-in on with a code from the app; get ten recovery codes, once"""
    return {"recovery_codes": mfa.confirm_enrolment(current_user(), fields["code"])}, NO_STORE


@blp.route("/totp", methods=["DELETE"])
@blp.login_required
@blp.arguments(TotpDisableSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(409, response="CONFLICT")
def disable_totp(fields):
    """Turn two-factor sign-in off, with the password and a current (or recovery) code"""
    mfa.disable(current_user(), fields["current_password"], fields["code"])
