"""The stats blueprint: dose counts for operators (admin) and for the public (cached)."""

from __future__ import annotations

import hashlib
import time

from flask import Response, current_app, request

from backend.api import Blueprint
from backend.stats import services
from backend.stats.schemas import DoseCountSchema, DoseStatsQuerySchema, PublicStatsSchema

blp = Blueprint("stats", __name__, url_prefix="/stats", description="Statistics")
PUBLIC_MAX_AGE = 60
CSV = "text/csv"


@blp.route("/doses")
@blp.admin_required
@blp.arguments(DoseStatsQuerySchema, location="query")
@blp.response(200, DoseCountSchema(many=True), description="JSON, or CSV with `Accept: text/csv`")
@blp.alt_response(200, schema={"type": "string"}, content_type=CSV, success=True)
def doses(query):
    """Approved doses per day, center, city, vaccine or dose number (admin)"""
    group_by = query["group_by"]
    counts = services.dose_counts(group_by, query.get("from_"), query.get("to"))
    if request.accept_mimetypes.best_match(["application/json", CSV]) == CSV:
        return Response(services.as_csv(counts, group_by), mimetype=CSV)
    return counts


@blp.route("/public")
@blp.response(200, PublicStatsSchema)
@blp.alt_response(304, description="Not modified (If-None-Match)")
def public():
    """Doses given today and in total, per vaccine (anyone; cached for a minute)"""
    body, etag = _public_snapshot()
    response = Response(body, mimetype="application/json")
    response.cache_control.public, response.cache_control.max_age = True, PUBLIC_MAX_AGE
    response.set_etag(etag)
    return response.make_conditional(request)  # 304 when If-None-Match names this ETag


def _public_snapshot() -> tuple[str, str]:
    """The public counts as JSON and its ETag, computed at most once a minute per worker."""
    cache = current_app.extensions.setdefault("public_stats", {})
    if cache.get("expires", 0) <= time.monotonic():
        body = current_app.json.dumps(PublicStatsSchema().dump(services.public_counts()))
        cache.update(
            body=body,
            etag=hashlib.sha256(body.encode()).hexdigest()[:32],
            expires=time.monotonic() + PUBLIC_MAX_AGE,
        )
    return cache["body"], cache["etag"]
