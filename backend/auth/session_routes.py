"""Sign-in sessions: the caller's own (list, end one), and an admin ending all of an account's."""

from __future__ import annotations

from flask import g

from backend.api import Blueprint
from backend.auth import sessions
from backend.auth.schemas import EndedSessionsSchema, SignInSessionSchema
from backend.users import services as users

blp = Blueprint("sign_in_sessions", __name__, url_prefix="/users", description="Sign-in sessions")


@blp.route("/me/sessions")
@blp.login_required(before_enrolment=True)
@blp.response(200, SignInSessionSchema(many=True))
def list_my_sessions():
    """The caller's live sessions (one per access token), newest first"""
    return sessions.live(g.caller["id"], g.caller["session_id"])


@blp.route("/me/sessions/<id:session_id>", methods=["DELETE"])
@blp.login_required(before_enrolment=True)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def end_my_session(session_id):
    """End one of the caller's sessions: its token is refused from now on, everywhere"""
    sessions.end_one(g.caller["id"], session_id)


@blp.route("/<id:user_id>/sessions", methods=["DELETE"])
@blp.admin_required
@blp.response(200, EndedSessionsSchema)
@blp.alt_response(404, response="NOT_FOUND")
def end_sessions_of(user_id):
    """End every session of an account (admin); audited"""
    ended = sessions.end_all_by_admin(users.open_account(user_id), admin_id=g.caller["id"])
    return {"ended": ended}
