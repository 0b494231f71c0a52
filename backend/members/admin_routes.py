"""Family members as admins see them: masked, or in full with an audited reason."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.members import services
from backend.members.schemas import MemberViewSchema
from backend.privacy import services as privacy
from backend.privacy.schemas import RevealQuerySchema

blp = Blueprint(
    "member_records", __name__, url_prefix="/members", description="Family members (admin)"
)


@blp.route("/<id:member_id>")
@blp.admin_required
@blp.arguments(RevealQuerySchema, location="query")
@blp.response(200, MemberViewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_member(query, member_id):
    """One family member (admin): masked, or in full with `reveal=true&reason=...` (audited)"""
    return privacy.shown(services.open_member(member_id), current_user(), **query)
