"""The users blueprint: the caller's profile and, for admins, everyone's."""

from __future__ import annotations

from flask import g

from backend.api import Blueprint
from backend.auth import services as auth_services
from backend.auth.schemas import MessageSchema
from backend.auth.tokens import current_user
from backend.privacy import services as privacy
from backend.privacy.export import export_of
from backend.privacy.export_schemas import ExportSchema
from backend.privacy.schemas import RevealQuerySchema
from backend.throttling import served
from backend.users import email_change, services
from backend.users.schemas import (
    AccountViewSchema,
    AdminUserUpdateSchema,
    EmailChangeCodeSchema,
    EmailChangeSchema,
    PasswordChangeSchema,
    PasswordConfirmSchema,
    ProfileUpdateSchema,
    UserQuerySchema,
    UserSchema,
)

blp = Blueprint("users", __name__, url_prefix="/users", description="Profiles")


def caller_account() -> str:
    """The throttle key of the signed-in caller (login_required has run)."""
    return f"account:{g.caller['id']}"


@blp.route("/me")
@blp.login_required(before_enrolment=True)
@blp.response(200, UserSchema)
def me():
    """The signed-in account's profile"""
    return g.caller  # the columns the sign-in check already read; no ORM object needed


@blp.route("")
@blp.admin_required
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, AccountViewSchema(many=True))
@blp.paginate()
def list_users(query, pagination_parameters):
    """List accounts (admin), filtered by name, email or national ID; personal values masked"""
    users, total = services.search(
        query.get("q"), pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return users


@blp.route("/me/export")
@blp.login_required
@blp.throttle("export", "RATELIMIT_EXPORT_PER_ACCOUNT", per=caller_account, deduct_when=served)
@blp.response(200, ExportSchema)
def export_me():
    """Everything held about the caller and their family members, in full"""
    return export_of(current_user())


@blp.route("/me", methods=["PATCH"])
@blp.login_required
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
@blp.alt_response(400, response="BAD_REQUEST")
def update_me(changes):
    """Change the caller's name, address or phone number; set the date of birth once"""
    return services.update_profile(current_user(), changes)


@blp.route("/me/password", methods=["PUT"])
@blp.login_required
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
def change_password(fields):
    """Change the caller's password; the caller's other sessions are signed out"""
    auth_services.change_password(
        current_user(), fields["current_password"], fields["new_password"], g.token_claims["jti"]
    )


@blp.route("/me/email", methods=["POST"])
@blp.login_required
@blp.throttle("change_email", "RATELIMIT_EMAIL_CHANGE_PER_ADDRESS")
@blp.throttle("change_email", "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT", per=caller_account)
@blp.arguments(EmailChangeSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(400, response="BAD_REQUEST")
def request_email_change(fields):
    """Send a code to a new email address (the same answer whether or not it is taken)"""
    email_change.request_email_change(
        current_user(), fields["new_email"], fields["current_password"]
    )
    return {"message": "A code has been sent to the new address."}


@blp.route("/me/email/confirm", methods=["POST"])
@blp.login_required
@blp.arguments(EmailChangeCodeSchema)
@blp.response(200, UserSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(409, response="CONFLICT")
def confirm_email_change(fields):
    """Change the caller's email with the code sent to the new address; the old one is told"""
    return email_change.confirm_email_change(current_user(), fields["code"])


@blp.route("/me", methods=["DELETE"])
@blp.login_required
@blp.arguments(PasswordConfirmSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
def delete_me(fields):
    """Close the caller's account (vaccination records are kept by the registry)"""
    auth_services.require_password(current_user(), fields["password"])
    auth_services.close_account(current_user(), actor=current_user())


@blp.route("/<id:user_id>")
@blp.admin_required
@blp.arguments(RevealQuerySchema, location="query")
@blp.response(200, AccountViewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_user(query, user_id):
    """One account (admin): masked, or in full with `reveal=true&reason=...` (audited)"""
    return privacy.shown(services.open_account(user_id), current_user(), **query)


@blp.route("/<id:user_id>", methods=["PATCH"])
@blp.admin_required
@blp.arguments(AdminUserUpdateSchema)
@blp.response(200, AccountViewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_user(changes, user_id):
    """Change an account's name, address, phone, date of birth or verified flag (admin)"""
    return services.apply_changes(services.open_account(user_id), changes, actor=current_user())


@blp.route("/<id:user_id>", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_user(user_id):
    """Close an account (admin); its vaccination records are kept"""
    auth_services.close_account(services.open_account(user_id), actor=current_user())
