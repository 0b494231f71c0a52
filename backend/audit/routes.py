"""The audit blueprint: the trail of security and registry events, for admins."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.api import Blueprint
from backend.audit.schemas import AuditEventSchema, AuditQuerySchema
from backend.extensions import db
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
    pagination_parameters.item_count = db.session.scalar(
        select(func.count()).select_from(query.subquery())
    )
    page = pagination_parameters
    return db.session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(page.page_size).offset(page.first_item)
    ).all()
