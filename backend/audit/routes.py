"""The audit blueprint: the trail of security and registry events, for admins."""

from __future__ import annotations

from sqlalchemy import select

from backend.api import Blueprint, page_of
from backend.audit.schemas import AuditEventSchema, AuditQuerySchema
from backend.models.audit import AuditEvent

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit trail")


@blp.route("")
@blp.admin_required
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.paginate()
def list_events(filters, pagination_parameters):
    """Audit events, newest first (admin), filtered by actor, subject, event or time"""
    query = select(AuditEvent)
    for name in ("actor_id", "subject_id", "event"):
        if name in filters:
            query = query.where(getattr(AuditEvent, name) == filters[name])
    if "since" in filters:
        query = query.where(AuditEvent.created_at >= filters["since"])
    page = pagination_parameters
    events, page.item_count = page_of(
        query.order_by(AuditEvent.id.desc()), page.page, page.page_size
    )
    return events
