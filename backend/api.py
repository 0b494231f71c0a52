"""Our thin layer over flask-smorest: one error shape, and auth decorators that also document."""

from __future__ import annotations

from functools import wraps

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from sqlalchemy import Select, func, select

from backend.auth.tokens import authenticate
from backend.errors import error_body
from backend.extensions import db
from backend.models import Role

BEARER_SECURITY = [{"bearerAuth": []}, {"oauth2": []}]


class Api(SmorestApi):
    def handle_http_exception(self, error):
        """Every HTTP error as JSON in one shape, keeping the exception's own headers."""
        return error_body(error)


class Blueprint(SmorestBlueprint):
    """A flask-smorest Blueprint whose auth decorators check the token and document it."""

    # Bodies that may come as JSON or as a form are documented as JSON.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json",
    }

    def login_required(self, func=None, *, role: Role | None = None):
        """Require a valid bearer token (and `role`, when given); document bearer auth + 401/403."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                user = authenticate()
                if role is not None and user.role_id != role:
                    abort(403, message="This action needs the admin role.")
                return func(*args, **kwargs)

            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if role is not None:
                wrapper = self.alt_response(403, response="FORBIDDEN")(wrapper)
            return self.doc(security=BEARER_SECURITY)(wrapper)

        return decorator(func) if func is not None else decorator

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """X-Pagination, with bounded counts shown as "10000+"."""
        return pagination_metadata(page, page_size, item_count)

    def admin_required(self, func):
        """Require a signed-in admin."""
        return self.login_required(func, role=Role.ADMIN)


# Counting stops here: past it, X-Pagination says "10000+" and leaves out the last page.
COUNT_LIMIT = 10_000


class AtLeast(int):
    """A row count that stopped at a bound: there are at least this many (and more)."""


def page_of(query: Select, page: int, page_size: int) -> tuple[list, int]:
    """One page of `query`'s rows (in its order) and the total; pages past the end are empty.

    The count is bounded: it stops at COUNT_LIMIT rows (or at the end of the asked page, if
    further), so a page of a million-row list costs what a page of a ten-thousand-row one does;
    a bounded total comes back as AtLeast. Checking the offset against the count first also
    keeps an absurd `page` (flask-smorest bounds only its minimum) from reaching OFFSET.
    """
    offset = (page - 1) * page_size
    # Ids are 32-bit, so no list reaches 2**31 rows; the clamp keeps LIMIT from overflowing.
    bound = min(max(COUNT_LIMIT, offset + page_size), 2**31 - 1)
    counted = db.session.scalar(select(func.count()).select_from(query.limit(bound + 1).subquery()))
    total = AtLeast(bound) if counted > bound else counted
    if offset >= total:
        return [], total
    return list(db.session.scalars(query.limit(page_size).offset(offset))), total


def pagination_metadata(page: int, page_size: int, item_count: int) -> dict:
    """flask-smorest's X-Pagination, with "N+" as the total of a bounded count (no last page)."""
    if not isinstance(item_count, AtLeast):
        return SmorestBlueprint._make_pagination_metadata(page, page_size, item_count)
    metadata = {
        "total": f"{int(item_count)}+",
        "first_page": 1,
        "page": page,
        "next_page": page + 1,
    }
    if page > 1:
        metadata["previous_page"] = page - 1
    return metadata
