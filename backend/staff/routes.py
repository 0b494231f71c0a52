"""The staff blueprint: admins create, list, change and close vaccinator accounts."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.staff import services
from backend.staff.schemas import (
    StaffCreateSchema,
    StaffQuerySchema,
    StaffSchema,
    StaffUpdateSchema,
)

blp = Blueprint("staff", __name__, url_prefix="/staff", description="Vaccinators (admin)")


@blp.route("", methods=["POST"])
@blp.admin_required
@blp.arguments(StaffCreateSchema)
@blp.response(201, StaffSchema)
@blp.alt_response(409, response="CONFLICT")
def create(fields):
    """Create a vaccinator attached to one center (admin)"""
    return services.create_vaccinator(**fields, actor=current_user())


@blp.route("")
@blp.admin_required
@blp.arguments(StaffQuerySchema, location="query")
@blp.response(200, StaffSchema(many=True))
@blp.paginate()
def list_staff(query, pagination_parameters):
    """List open vaccinator accounts, oldest first (admin)"""
    staff, total = services.vaccinators(
        query.get("center_id"), pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return staff


@blp.route("/<id:user_id>", methods=["PATCH"])
@blp.admin_required
@blp.arguments(StaffUpdateSchema)
@blp.response(200, StaffSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update(changes, user_id):
    """Change a vaccinator's name, center or own national ID (admin)"""
    return services.update_vaccinator(user_id, changes, actor=current_user())


@blp.route("/<id:user_id>", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def close(user_id):
    """Close a vaccinator's account (admin); the doses they gave stay on record"""
    services.close_vaccinator(user_id, actor=current_user())
