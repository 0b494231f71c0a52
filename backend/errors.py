"""Domain exceptions and their one mapping to HTTP, in flask-smorest's JSON error shape."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice

from flask import Flask
from flask_smorest import abort
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from backend.extensions import db
from backend.outages import close_session, handle_database_unavailable

# Constraint names (see NAMING_CONVENTION) to the field a client should change, if any.
UNIQUE_FIELDS = {
    "uq_users_email_index": ("email", "An account with this email already exists."),
    "uq_users_nid_index": ("nid", "An account with this national ID already exists."),
    "uq_vaccines_name": ("name", "A vaccine with this name already exists."),
    "uq_members_nid_index": ("nid", "Someone in the registry already has this national ID."),
    "uq_vaccination_sessions_open": (
        "date",
        "This center already has an open session of this vaccine on that day.",
    ),
    # Races, not fields: no field for the client to change (None omits `errors`).
    "uq_vaccinations_one_pending": (
        None,
        "You already have a pending registration; cancel it or wait for its review.",
    ),
    "uq_vaccinations_member_one_pending": (
        None,
        "This member already has a live appointment or pending registration.",
    ),
    "uq_certificates_vaccination_live": (None, "This vaccination already has a certificate."),
    "uq_appointments_vaccination_id": (None, "This registration already has an appointment."),
}
# SQLite names the columns, not the index, when a partial unique index is violated.
INDEX_COLUMNS = {
    "uq_vaccinations_one_pending": "vaccinations.user_id",
    "uq_vaccinations_member_one_pending": "vaccinations.member_id",
    "uq_vaccination_sessions_open": "vaccination_sessions.center_id",
    "uq_certificates_vaccination_live": "certificates.vaccination_id",
}
# An error body lists this many entries per level (fields, list items), then counts the rest:
# a body of 80,000 unknown keys would otherwise be answered with megabytes of messages.
MAX_LISTED_ERRORS = 20


class DomainError(Exception):
    """A refusal a service raises without knowing HTTP; `register_errorhandlers` maps each kind
    to its status once, and the CLI and jobs print its message."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def details(self) -> dict:
        """What the answer carries beside the message (`errors`, `reason`, `headers`)."""
        return {}


class BadRequest(DomainError):
    """A request that cannot be carried out as asked (400)."""


class InvalidCode(BadRequest):
    """A one-time or second-factor code that is wrong or already used (400)."""


class Unauthorized(DomainError):
    """No valid credentials (401), with the RFC 6750 challenge to send them."""

    status = 401

    def __init__(self, message: str, *, challenge: str = 'Bearer realm="api"'):
        super().__init__(message)
        self.challenge = challenge

    def details(self) -> dict:
        return {"headers": {"WWW-Authenticate": self.challenge}}


class Forbidden(DomainError):
    """The caller is known but may not do this (403)."""

    status = 403


class NotFound(DomainError):
    """No such record, or none the caller may see (404)."""

    status = 404


class Gone(DomainError):
    """The thing asked for existed but is no longer valid (410)."""

    status = 410


class Invalid(DomainError):
    """A field's value breaks a rule the schema cannot check (422, in flask-smorest's shape)."""

    status = 422

    def __init__(self, field: str, message: str, *, field_message: str | None = None):
        super().__init__(message)
        self.field = field
        self.field_message = field_message or message

    def details(self) -> dict:
        return {"errors": {"json": {self.field: [self.field_message]}}}


class Conflict(DomainError):
    """A clash with the current state that clients tell apart by `reason` (409); `field` names
    the value to change, if any."""

    status = 409
    reason = "conflict"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

    def details(self) -> dict:
        details = {"reason": self.reason} if self.reason else {}
        if self.field:
            details["errors"] = {"json": {self.field: [self.message]}}
        return details


class SessionFull(Conflict):
    """Every place of the session is taken."""

    reason = "full"


class AppointmentLocked(Conflict):
    """Too many wrong codes were given for the appointment: only an officer records its dose."""

    reason = "locked"


class AlreadyGiven(Conflict):
    """The dose was already recorded (or the appointment is no longer live)."""

    reason = "not_live"


class EmailTaken(Conflict):
    """Another account has the address (found before the change, or by the unique constraint)."""

    reason = "email_taken"


class Throttled(DomainError):
    """The action's budget for this client, address or account is spent for now (429); the
    message names the limit ("10 per 1 minute")."""

    status = 429


class NotYourRecord(NotFound):
    """A record that does not exist or is not the caller's: the same 404 either way."""


class StateConflict(Conflict):
    """A clash with the current state whose message says it all (no `reason`)."""

    reason = None


def handle_domain_error(error: DomainError):
    """The one place a service's refusal becomes an HTTP answer; nothing it began is kept."""
    db.session.rollback()
    abort(error.status, message=error.message, **error.details())


def error_body(error: HTTPException) -> tuple[dict, int, dict]:
    """The JSON body, status and headers for an HTTPException, in flask-smorest's shape."""
    payload = {"code": error.code, "status": error.name}
    headers = dict(error.get_headers()) if error.response is None else {}
    headers.pop("Content-Type", None)
    data = getattr(error, "data", None) or {}
    payload["message"] = data.get("message") or error.description
    if "errors" in data or "messages" in data:
        payload["errors"] = bounded(data.get("errors", data.get("messages")))
    if "reason" in data:  # a machine-readable cause, e.g. "full" for a booked-out session
        payload["reason"] = data["reason"]
    headers.update(data.get("headers") or {})
    return payload, error.code, headers


def bounded(errors):
    """`errors` with at most MAX_LISTED_ERRORS entries per level; `_more` counts the others."""
    if isinstance(errors, Mapping):
        shown = {key: bounded(value) for key, value in islice(errors.items(), MAX_LISTED_ERRORS)}
        if len(errors) > MAX_LISTED_ERRORS:
            shown["_more"] = [f"{len(errors) - MAX_LISTED_ERRORS} more not listed."]
        return shown
    if isinstance(errors, list):
        shown = [bounded(value) for value in errors[:MAX_LISTED_ERRORS]]
        if len(errors) > MAX_LISTED_ERRORS:
            shown.append(f"{len(errors) - MAX_LISTED_ERRORS} more not listed.")
        return shown
    return errors


def conflict_for(error: IntegrityError) -> tuple[str | None, str]:
    """Name the field behind a unique-constraint violation, on PostgreSQL and SQLite alike."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint in UNIQUE_FIELDS:
        return UNIQUE_FIELDS[constraint]
    text = str(error.orig)
    for name, (field, message) in UNIQUE_FIELDS.items():
        table, column = name.removeprefix("uq_").split("_", 1)
        columns = INDEX_COLUMNS.get(name, f"{table}.{column}")
        if constraint == name or columns in text:
            return field, message
    return None, "The request conflicts with the current state of the resource."


def handle_integrity_error(error: IntegrityError):
    """A constraint the client can violate (duplicates, races) is a 409, never a 500."""
    db.session.rollback()
    field, message = conflict_for(error)
    errors = {"json": {field: [message]}} if field else None
    abort(409, message=message, **({"errors": errors} if errors else {}))


def register_errorhandlers(app: Flask) -> None:
    app.teardown_appcontext(close_session)
    app.register_error_handler(DomainError, _wrap(handle_domain_error))
    app.register_error_handler(IntegrityError, _wrap(handle_integrity_error))
    app.register_error_handler(DBAPIError, _wrap(handle_database_unavailable))


def _wrap(handler):
    """Run a handler that aborts, and render the resulting HTTPException in the shared shape."""

    def render(error):
        try:
            handler(error)
        except HTTPException as http_error:
            return error_body(http_error)
        raise error  # pragma: no cover - handlers always abort

    return render
