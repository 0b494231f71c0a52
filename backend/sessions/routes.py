"""The sessions blueprint: centers publish sessions (admin); anyone searches them."""

from __future__ import annotations

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.sessions import services
from backend.sessions.schemas import (
    SessionBulkSchema,
    SessionCreateSchema,
    SessionQuerySchema,
    SessionSchema,
    SessionUpdateSchema,
)

blp = Blueprint("sessions", __name__, url_prefix="/sessions", description="Vaccination sessions")
ID = "/<id:session_id>"
# Seats change with every booking: a short shared cache, revalidated cheaply with the ETag.
SEARCH_CACHE = {"Cache-Control": "public, max-age=15"}


@blp.route("")
@blp.etag
@blp.arguments(SessionQuerySchema, location="query")
@blp.response(200, SessionSchema(many=True))
@blp.paginate()
def search(filters, pagination_parameters):
    """Open sessions from today on, by city, center, vaccine, dates (inclusive) or age"""
    sessions, total = services.search(
        filters, pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return sessions, SEARCH_CACHE


@blp.route(ID)
@blp.response(200, SessionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_session(session_id):
    """One session, with its places booked and available"""
    return services.get_session(session_id)


@blp.route("", methods=["POST"])
@blp.admin_required
@blp.arguments(SessionCreateSchema)
@blp.response(201, SessionSchema)
@blp.alt_response(409, response="CONFLICT")
def create(fields):
    """Publish a session: a center offers a vaccine on a day to `capacity` people (admin)"""
    return services.create(fields, actor=current_user())


@blp.route("/bulk", methods=["POST"])
@blp.admin_required
@blp.arguments(SessionBulkSchema)
@blp.response(201, SessionSchema(many=True))
@blp.alt_response(409, response="CONFLICT")
def create_many(fields):
    """Publish sessions on chosen weekdays of a date range, all or none (admin)"""
    return services.create_many(fields, actor=current_user())


@blp.route(ID, methods=["PATCH"])
@blp.admin_required
@blp.arguments(SessionUpdateSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def change(fields, session_id):
    """Change capacity (never below the places booked) or min_age (admin)"""
    return services.change(session_id, fields, actor=current_user())


@blp.route(ID, methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def remove(session_id):
    """Delete a session nobody booked (admin); cancel a booked one instead"""
    services.remove(session_id, actor=current_user())


@blp.route(f"{ID}/cancel", methods=["POST"])
@blp.admin_required
@blp.response(200, SessionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def cancel(session_id):
    """Cancel a session and its appointments, and notify the people booked (admin)"""
    return services.cancel(session_id, actor=current_user())
