"""The users blueprint: the caller's profile and, for admins, everyone's."""

from __future__ import annotations

from flask import g
from flask_smorest import abort

from backend.api import Blueprint
from backend.extensions import db
from backend.models import User
from backend.users import services
from backend.users.schemas import UserQuerySchema, UserSchema

blp = Blueprint("users", __name__, url_prefix="/users", description="Profiles")


@blp.route("/me")
@blp.login_required
@blp.response(200, UserSchema)
def me():
    """The signed-in account's profile"""
    return g.current_user


@blp.route("")
@blp.admin_required
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
@blp.paginate()
def list_users(query, pagination_parameters):
    """List accounts (admin), filtered by name, email or national ID"""
    users, total = services.search(
        query.get("q"), pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return users


@blp.route("/<int(max=2147483647):user_id>")
@blp.admin_required
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_user(user_id):
    """One account (admin)"""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, message="No such user.")
    return user
