"""Our thin layer over flask-smorest: one error shape, and decorators that declare what a route
does (auth, throttles, accepted body types, aliases) and document it in the same step."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import wraps

import marshmallow as ma
from flask import current_app
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from flask_smorest.pagination import PaginationMetadataSchema as SmorestPaginationMetadataSchema
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from backend.auth.tokens import authenticate
from backend.errors import error_body
from backend.extensions import db
from backend.models import Role
from backend.models.user import PERSONAL_ROLES
from backend.throttling import Throttle, throttled

BEARER_SECURITY = [{"bearerAuth": []}, {"oauth2": []}]
MAX_ID = 2**31 - 1  # PostgreSQL's integer; a larger id must not reach the database
BODY_METHODS = {"post", "put", "patch", "delete"}
NON_BODY_LOCATIONS = {"query", "path", "headers", "cookies"}
# Unknown fields are each reported, up to this many beyond the schema's own; a body with more
# is refused as a whole before marshmallow spends time on (and lists) every one of them.
MAX_EXTRA_FIELDS = 20


def _digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (leading zeros aside)."""
    text = str(limit)
    shorter = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    lowest = [1 if i == 0 and len(text) > 1 else 0 for i in range(len(text))]
    same_length = [  # the limit's first i digits, then a smaller digit, then any digits
        f"{text[:i]}[{lowest[i]}-{int(digit) - 1}]\\d{{{len(text) - i - 1}}}"
        for i, digit in enumerate(text)
        if int(digit) > lowest[i]
    ]
    return "0*(?:" + "|".join([*shorter, *same_length, text]) + ")"


class IdConverter(BaseConverter):
    """`<id:name>`: a row id. Larger numbers do not match the route at all, so they are a 404
    for every method (werkzeug's `int(max=...)` rejects them after matching: a 405 when the
    path has other methods)."""

    regex = _digits_up_to(MAX_ID)

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)

    @staticmethod
    def openapi_schema(converter) -> dict:
        return {"type": "integer", "minimum": 0, "maximum": MAX_ID}


class ArgumentsParser(FlaskParser):
    """webargs' parser: JSON nested too deeply is invalid JSON (400), and a body with far more
    fields than the schema has is one 422, not one error per field."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # json's C parser gives up at ~1,000 levels of [ or {
            raise json.JSONDecodeError("The JSON is nested too deeply.", "-", 0) from None

    def load_json(self, req, schema: ma.Schema):
        return _refuse_excess_fields(super().load_json(req, schema), schema)

    def load_form(self, req, schema: ma.Schema):
        return _refuse_excess_fields(super().load_form(req, schema), schema)


def _refuse_excess_fields(data, schema: ma.Schema):
    expected = len(schema.fields)
    if isinstance(data, Mapping) and len(data) > expected + MAX_EXTRA_FIELDS:
        problem = f"The body has {len(data)} fields; this operation takes at most {expected}."
        raise ma.ValidationError({"_schema": [problem]})
    return data


class Api(SmorestApi):
    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["id"] = IdConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(IdConverter, IdConverter.openapi_schema)

    def handle_http_exception(self, error):
        """Every HTTP error as JSON in one shape, keeping the exception's own headers."""
        return error_body(error)

    def _register_pagination_header(self):
        """X-Pagination as sent: `total` is a number, or "10000+" when counting stopped."""
        self.spec.components.header(
            "PAGINATION",
            {"description": "Pagination metadata", "schema": PaginationMetadataSchema},
            lazy=True,
        )


class PaginationMetadataSchema(SmorestPaginationMetadataSchema):
    total = ma.fields.Raw(
        metadata={
            "description": 'Total number of items, or "N+" when there are more than N (the'
            " count stops at 10000; last_page and total_pages are then left out).",
            "oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+\\+$"}],
        }
    )


class Blueprint(SmorestBlueprint):
    """A flask-smorest Blueprint whose auth decorators check the token and document it."""

    ARGUMENTS_PARSER = ArgumentsParser()

    # Bodies that may come as JSON or as a form are documented as JSON.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Before flask-smorest turns the collected responses into the operation's document.
        self._prepare_doc_cbks.insert(0, self._document_request_hygiene)

    @staticmethod
    def _document_request_hygiene(doc, doc_info, *, method, **kwargs):
        """List the answers backend.middleware and the body parser give on any route: 422 for
        unstorable text (any query string), 413 and 415 for bodies, 400 for malformed JSON."""
        responses = doc_info.setdefault("response", {}).setdefault("responses", {})
        statuses = {422: "UNPROCESSABLE_ENTITY"}
        if method in BODY_METHODS:
            statuses |= {413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}
        arguments = doc_info.get("arguments", {}).get("parameters", [])
        if any(argument.get("in") not in NON_BODY_LOCATIONS for argument in arguments):
            statuses[400] = "BAD_REQUEST"
        for status, name in statuses.items():
            responses.setdefault(status, [name])
        return doc

    def login_required(
        self,
        func=None,
        *,
        role: Role | tuple[Role, ...] | None = None,
        before_enrolment: bool = False,
    ):
        """Require a valid bearer token (and `role`, or one of several, when given); document
        bearer auth + 401/403.

        Staff who have not enrolled in two-factor sign-in are refused (while REQUIRE_STAFF_MFA
        is on) unless `before_enrolment`: the routes they need to enrol, see who they are and
        sign out."""
        roles = (role,) if isinstance(role, Role) else role

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                user = authenticate()
                if not before_enrolment:
                    refuse_unenrolled_staff(user)
                if roles is not None and user["role_id"] not in roles:
                    abort(403, message=f"This action needs the {_names(roles)} role.")
                return func(*args, **kwargs)

            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if role is not None or not before_enrolment:
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

    def vaccinator_required(self, func):
        """Require a signed-in vaccinator."""
        return self.login_required(func, role=Role.VACCINATOR)

    def personal_required(self, func):
        """Require an account that may be vaccinated itself: a citizen's or an admin's (a
        vaccinator's staff account is for giving doses only)."""
        return self.login_required(func, role=PERSONAL_ROLES)

    def throttle(self, action: str, setting: str, *, per: str = "address", deduct_when=None):
        """Spend from the `action`'s budget, shared by every URL and body type of the action:
        `setting` names the limit's config value, `per` is "address" or the body field counted
        ("username", "email"), `deduct_when` decides from the response whether it counts.
        Documents the 429."""

        def decorator(func):
            wrapper = throttled(Throttle(action, setting, per, deduct_when))(func)
            return self.alt_response(429, response="TOO_MANY_REQUESTS")(wrapper)

        return decorator

    @staticmethod
    def accepts_forms(func):
        """Take the body as a form (urlencoded or multipart) as well as JSON (else 415)."""
        func.accepts_forms = True  # read by backend.middleware before the view runs
        return func

    @staticmethod
    def alias(rule: str, *, deprecated: bool = True):
        """Also serve the route at `rule` (a full path), as a separate operation documented with
        the "prototype" tag (and deprecated). Under this blueprint's prefix the alias is one of
        its endpoints; elsewhere, one of the `prototype` blueprint's."""

        def decorator(func):
            func.aliases = [*getattr(func, "aliases", ()), (rule, deprecated)]
            return func

        return decorator

    def route(self, rule, *, parameters=None, tags=None, **options):
        """flask-smorest's route, also registering the view's `@alias` URLs."""
        methods = options.get("methods")
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(func):
            register(func)
            for alias, deprecated in getattr(func, "aliases", ()):
                self._register_alias(alias, func, methods, deprecated, of=self._path(rule))
            return func

        return decorator

    def _path(self, rule: str) -> str:
        return (self.url_prefix or "").rstrip("/") + rule

    def _register_alias(self, rule: str, func, methods, deprecated: bool, *, of: str) -> None:
        prefix = (self.url_prefix or "").rstrip("/")
        blueprint, path = self, rule.removeprefix(prefix)
        if not rule.startswith(prefix + "/"):
            blueprint, path = prototype, rule
        note = f"The prototype's URL for `{of}`; new clients should use that."
        view = self.doc(deprecated=deprecated, description=note)(func)
        endpoint = path.strip("/").replace("/", "_")
        blueprint.add_url_rule(path, endpoint, view, tags=[PROTOTYPE_TAG], methods=methods)


def _names(roles: tuple[Role, ...]) -> str:
    return " or ".join(role.name.lower() for role in roles)


STAFF_MFA_MESSAGE = (
    "Staff accounts must turn on two-factor sign-in first: POST /users/me/mfa/totp, then"
    " POST /users/me/mfa/totp/confirm."
)


def refuse_unenrolled_staff(caller: dict) -> None:
    """403 for a staff caller (any role but citizen) without two-factor, if REQUIRE_STAFF_MFA.

    Reads the caller's row already loaded: for citizens, one comparison."""
    if caller["role_id"] != Role.CITIZEN and not caller["mfa_enabled"]:
        if current_app.config["REQUIRE_STAFF_MFA"]:
            abort(403, message=STAFF_MFA_MESSAGE)


PROTOTYPE_TAG = "prototype"
# The prototype's own URLs outside every blueprint's prefix (/login, /create, ...), registered by
# `Blueprint.alias`; create_app registers this blueprint after all the others.
prototype = Blueprint(
    PROTOTYPE_TAG,
    __name__,
    description="The prototype's URLs, kept for its web client: deprecated aliases of the"
    " operations above. New clients should use those.",
)


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
