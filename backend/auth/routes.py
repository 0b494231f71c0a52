"""The auth blueprint: create an account, and sign in with the OAuth 2.0 password grant."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from marshmallow import ValidationError

from backend.api import Blueprint
from backend.auth import services
from backend.auth.schemas import (
    ConfirmCodeSchema,
    EmailSchema,
    MessageSchema,
    OAuthErrorSchema,
    RegisterSchema,
    ResetCodeSchema,
    ResetPasswordSchema,
    TokenRequestSchema,
    TokenSchema,
)
from backend.auth.tokens import current_user, issue_access_token
from backend.throttling import failed
from backend.users.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and sign-in")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_REQUEST_DOC = {
    "required": True,
    "content": {
        media_type: {"schema": TokenRequestSchema}
        for media_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/json",
        )
    },
}


@blp.route("/register", methods=["POST"])
@blp.alias("/create")
@blp.throttle("register", "RATELIMIT_REGISTER_PER_ADDRESS")
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, response="CONFLICT")
def register(fields):
    """Create a citizen account"""
    return services.register_citizen(**fields)


def oauth_error(error: str, description: str) -> Response:
    """An RFC 6749 §5.2 error response (OAuth clients parse this shape, not ours)."""
    response = jsonify(error=error, error_description=description)
    response.status_code = 400
    response.headers.update(NO_STORE)
    return response


@blp.route("/token", methods=["POST"])
@blp.alias("/auth/login")
@blp.alias("/login")
@blp.accepts_forms
@blp.throttle("sign_in", "RATELIMIT_SIGN_IN_PER_ADDRESS")
@blp.throttle("sign_in", "RATELIMIT_SIGN_IN_PER_USERNAME", per="username", deduct_when=failed)
@blp.doc(requestBody=TOKEN_REQUEST_DOC)
@blp.response(200, TokenSchema)
@blp.alt_response(400, schema=OAuthErrorSchema, description="RFC 6749 §5.2 error")
def token():
    """Sign in (OAuth 2.0 password grant) and get a bearer token"""
    submitted = request.form if request.form else (request.get_json(silent=True) or {})
    if not isinstance(submitted, dict) and not hasattr(submitted, "to_dict"):
        return oauth_error("invalid_request", "Send username and password as a form or JSON.")
    try:
        credentials = TokenRequestSchema().load(
            submitted.to_dict() if hasattr(submitted, "to_dict") else submitted
        )
    except ValidationError as error:
        return oauth_error("invalid_request", _first_problem(error.messages))
    if credentials["grant_type"] != "password":
        return oauth_error("unsupported_grant_type", "Only grant_type=password is supported.")
    account = services.check_credentials(credentials["username"], credentials["password"])
    if account is None:
        return oauth_error("invalid_grant", "The email or password is incorrect.")
    access_token, expires_in = issue_access_token(account["id"], account["token_version"])
    body = {"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}
    return body, 200, NO_STORE


def _first_problem(messages: dict) -> str:
    field, problems = next(iter(messages.items()))
    problem = problems[0] if isinstance(problems, list) else str(problems)
    return f"{field}: {problem}"


@blp.route("/logout", methods=["POST"])
@blp.login_required
@blp.response(204)
def logout():
    """Sign out: the presented token is refused from now on, everywhere"""
    services.sign_out(current_user(), g.token_claims)


@blp.route("/password/forgot", methods=["POST"])
@blp.alias("/forgot")
@blp.accepts_forms
@blp.throttle("forgot_password", "RATELIMIT_FORGOT_PER_EMAIL", per="email")
@blp.throttle("forgot_password", "RATELIMIT_FORGOT_PER_ADDRESS")
@blp.arguments(EmailSchema, location="json_or_form")
@blp.response(202, MessageSchema)
def forgot_password(fields):
    """Send a password reset code (the same answer whether or not the account exists)"""
    services.request_password_reset(fields["email"])
    return {"message": services.CODE_SENT}


@blp.route("/password/verify", methods=["POST"])
@blp.alias("/validate")
@blp.accepts_forms
@blp.throttle("verify_reset_code", "RATELIMIT_RESET_PER_EMAIL", per="email")
@blp.throttle("verify_reset_code", "RATELIMIT_RESET_PER_ADDRESS")
@blp.arguments(ResetCodeSchema, location="json_or_form")
@blp.response(200, MessageSchema)
@blp.alt_response(400, response="BAD_REQUEST")
def verify_reset_code(fields):
    """Check a password reset code without using it up"""
    services.verify_reset_code(fields["email"], fields["code"])
    return {"message": "The code is valid."}


@blp.route("/password/reset", methods=["POST"])
@blp.accepts_forms
@blp.throttle("reset_password", "RATELIMIT_RESET_PER_EMAIL", per="email")
@blp.throttle("reset_password", "RATELIMIT_RESET_PER_ADDRESS")
@blp.arguments(ResetPasswordSchema, location="json_or_form")
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
def reset_password(fields):
    """Set a new password with a reset code; every earlier token stops working"""
    services.reset_password(fields["email"], fields["code"], fields["new_password"])


@blp.route("/verify/request", methods=["POST"])
@blp.throttle("verify_contact", "RATELIMIT_VERIFY_PER_ADDRESS")
@blp.login_required
@blp.response(202, MessageSchema)
def request_verification():
    """Send a code to the account's email and phone to verify them"""
    services.request_contact_verification(current_user())
    return {"message": "A verification code has been sent."}


@blp.route("/verify/confirm", methods=["POST"])
@blp.login_required
@blp.arguments(ConfirmCodeSchema)
@blp.response(200, UserSchema)
@blp.alt_response(400, response="BAD_REQUEST")
def confirm_verification(fields):
    """Confirm the account's contact details with the code sent to them"""
    services.confirm_contact(current_user(), fields["code"])
    return current_user()
