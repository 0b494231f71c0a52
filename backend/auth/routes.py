"""The auth blueprint: create an account, and sign in with the OAuth 2.0 password grant."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from marshmallow import ValidationError

from backend.api import Blueprint
from backend.auth import mfa, recovery, services, sessions
from backend.auth.schemas import (
    MFA_OTP_GRANT,
    ConfirmCodeSchema,
    EmailSchema,
    EndedSessionsSchema,
    MessageSchema,
    MfaRequiredSchema,
    OAuthErrorSchema,
    RegisterSchema,
    ResetCodeSchema,
    ResetPasswordSchema,
    TokenRequestSchema,
    TokenSchema,
)
from backend.auth.tokens import current_user, issue_access_token
from backend.throttling import submitted
from backend.users.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and sign-in")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Auth0's choice for its mfa_required answer: the password was right, the sign-in not complete.
MFA_REQUIRED_STATUS = 403
# Built once: constructing a marshmallow schema costs several times what loading a form does.
TOKEN_REQUEST = TokenRequestSchema()
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


def oauth_error(error: str, description: str, status: int = 400, **extra) -> Response:
    """An RFC 6749 §5.2 error response (OAuth clients parse this shape, not ours)."""
    response = jsonify(error=error, error_description=description, **extra)
    response.status_code = status
    response.headers.update(NO_STORE)
    return response


def refused(response: Response) -> bool:
    """For the username's throttle: wrong passwords and codes count; `mfa_required` and
    outages (5xx: a client retrying through one must not be locked out after it) do not."""
    status = response.status_code
    return 400 <= status < 500 and status != MFA_REQUIRED_STATUS


def signing_in_username() -> str:
    """Whose sign-in budget a request spends: the username sent, or for the mfa-otp grant the
    account its mfa_token was issued to (so wrong codes count where wrong passwords do)."""
    body = request.form or request.get_json(silent=True)
    mfa_token = body.get("mfa_token") if hasattr(body, "get") else None
    email = mfa.challenged_email(mfa_token) if isinstance(mfa_token, str) else None
    return f"username:{email}" if email else submitted("username")


@blp.route("/token", methods=["POST"])
@blp.alias("/auth/login")
@blp.alias("/login")
@blp.accepts_forms
@blp.throttle("sign_in", "RATELIMIT_SIGN_IN_PER_ADDRESS")
@blp.throttle(
    "sign_in", "RATELIMIT_SIGN_IN_PER_USERNAME", per=signing_in_username, deduct_when=refused
)
@blp.doc(requestBody=TOKEN_REQUEST_DOC)
@blp.response(200, TokenSchema)
@blp.alt_response(400, schema=OAuthErrorSchema, description="RFC 6749 §5.2 error")
@blp.alt_response(
    MFA_REQUIRED_STATUS,
    schema=MfaRequiredSchema,
    description=f"Two-factor is on: send the mfa_token and a code with grant_type={MFA_OTP_GRANT}",
)
def token():
    """Sign in (OAuth 2.0 password grant, then the mfa-otp grant if two-factor is on)"""
    submitted = request.form if request.form else (request.get_json(silent=True) or {})
    if not isinstance(submitted, dict) and not hasattr(submitted, "to_dict"):
        return oauth_error("invalid_request", "Send username and password as a form or JSON.")
    try:
        credentials = TOKEN_REQUEST.load(
            submitted.to_dict() if hasattr(submitted, "to_dict") else submitted
        )
    except ValidationError as error:
        return oauth_error("invalid_request", _first_problem(error.messages))
    if credentials["grant_type"] == MFA_OTP_GRANT:
        account = mfa.complete_sign_in(credentials["mfa_token"], credentials["otp"])
        if account is None:
            return oauth_error("invalid_grant", "The code is wrong or used, or the mfa_token is.")
    elif credentials["grant_type"] != "password":
        return oauth_error("unsupported_grant_type", f"Use password or {MFA_OTP_GRANT}.")
    else:
        account = services.check_credentials(credentials["username"], credentials["password"])
        if account is None:
            return oauth_error("invalid_grant", "The email or password is incorrect.")
        if account["mfa_enabled"]:
            description = "Two-factor sign-in is on: send a code with this mfa_token."
            mfa_token = mfa.begin_sign_in(account["id"])
            return oauth_error(
                "mfa_required", description, MFA_REQUIRED_STATUS, mfa_token=mfa_token
            )
    access_token, expires_in = issue_access_token(
        account["id"], account["token_version"], account.get("second_factor")
    )
    body = {"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}
    return body, 200, NO_STORE


def _first_problem(messages: dict) -> str:
    field, problems = next(iter(messages.items()))
    problem = problems[0] if isinstance(problems, list) else str(problems)
    return f"{field}: {problem}"


@blp.route("/logout", methods=["POST"])
@blp.login_required(before_enrolment=True)
@blp.response(204)
def logout():
    """Sign out: the presented token's session ends, and every worker refuses the token"""
    sessions.sign_out(g.caller["id"], g.caller["session_id"])


@blp.route("/logout-all", methods=["POST"])
@blp.login_required(before_enrolment=True)
@blp.response(200, EndedSessionsSchema)
def logout_all():
    """Sign out everywhere else: every session but the caller's ends"""
    return {"ended": sessions.end_others(g.caller["id"], g.caller["session_id"])}


@blp.route("/password/forgot", methods=["POST"])
@blp.alias("/forgot")
@blp.accepts_forms
@blp.throttle("forgot_password", "RATELIMIT_FORGOT_PER_EMAIL", per="email")
@blp.throttle("forgot_password", "RATELIMIT_FORGOT_PER_ADDRESS")
@blp.arguments(EmailSchema, location="json_or_form")
@blp.response(202, MessageSchema)
def forgot_password(fields):
    """Send a password reset code (the same answer whether or not the account exists)"""
    recovery.request_password_reset(fields["email"])
    return {"message": recovery.CODE_SENT}


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
    recovery.verify_reset_code(fields["email"], fields["code"])
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
    recovery.reset_password(fields["email"], fields["code"], fields["new_password"])


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
