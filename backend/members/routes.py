"""The members blueprint: the signed-in account's family members."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.members import services
from backend.members.schemas import MemberCreateSchema, MemberSchema, MemberUpdateSchema

blp = Blueprint("members", __name__, url_prefix="/users/me/members", description="Family members")
ID = "/<id:member_id>"


@blp.route("", methods=["POST"])
@blp.personal_required
@blp.arguments(MemberCreateSchema)
@blp.response(201, MemberSchema)
@blp.alt_response(409, response="CONFLICT")
def add(fields):
    """Add a family member, whose appointments and certificates the account manages"""
    return services.add(current_user(), fields)


@blp.route("")
@blp.login_required
@blp.response(200, MemberSchema(many=True))
def list_members():
    """The account's family members"""
    return services.members_of(current_user())


@blp.route(ID, methods=["PATCH"])
@blp.login_required
@blp.arguments(MemberUpdateSchema)
@blp.response(200, MemberSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def change(fields, member_id):
    """Change a family member's details"""
    return services.change(current_user(), member_id, fields)


@blp.route(ID, methods=["DELETE"])
@blp.login_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def remove(member_id):
    """Remove a family member (records stay with the registry)"""
    services.remove(current_user(), member_id)
