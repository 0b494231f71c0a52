"""Liveness and readiness probes for the platform's router and orchestrator."""

from __future__ import annotations

from marshmallow import Schema, fields
from sqlalchemy import text

from backend.api import Blueprint
from backend.extensions import db

blp = Blueprint("health", __name__, url_prefix="/health", description="Probes")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


@blp.route("")
@blp.response(200, HealthSchema)
def live():
    """Liveness: the process answers (the database is not consulted)"""
    return {"status": "ok"}


@blp.route("/ready")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def ready():
    """Readiness: 200 when the database answers, 503 when it does not"""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
