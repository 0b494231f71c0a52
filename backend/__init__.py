"""The vaccination registration service: `create_app()` builds it in named steps."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.observability import configure_logging
from config import load_config


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a document nested too deeply to parse is invalid JSON, not a crash."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # ~1,000 levels of [ or {: json's C parser gives up here
            raise ValueError("The JSON is nested too deeply.") from None


class NoCookieSessions(SessionInterface):
    """No cookie session: the API is stateless (bearer tokens), and Flask's default interface
    builds a signing serializer and looks for its cookie on every request (~15-35 us)."""

    def open_session(self, app, request):
        return None  # Flask then uses its NullSession, which refuses to be written to

    def save_session(self, app, session, response):
        return None


class App(Flask):
    """Flask with our JSON provider and no cookie sessions (Flask's documented
    `json_provider_class` and `session_interface` hooks)."""

    json_provider_class = JSONProvider
    session_interface = NoCookieSessions()


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app from the environment; `config` overrides settings (tests use it)."""
    app = App(__name__, static_folder=None)
    app.config.from_mapping(load_config(**dict(config or {})))
    configure_logging(app.config["LOG_FORMAT"])
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from backend import models, notify  # noqa: F401  (models must be known to Alembic)
    from backend.extensions import cors, db, jwt, migrate

    db.init_app(app)
    notify.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    jwt.init_app(app)  # issues access tokens (backend/auth/tokens.py verifies them)
    if app.config["CORS_ORIGINS"]:
        cors.init_app(
            app,
            origins=app.config["CORS_ORIGINS"],
            expose_headers=["X-Pagination", "X-Request-ID"],
        )


def register_blueprints(app: Flask) -> None:
    from backend.administrations.routes import blp as administrations_blp
    from backend.api import Api, prototype
    from backend.appointments.routes import blp as appointments_blp
    from backend.audit.routes import blp as audit_blp
    from backend.auth.mfa_routes import blp as mfa_blp
    from backend.auth.routes import blp as auth_blp
    from backend.auth.session_routes import blp as sign_in_sessions_blp
    from backend.health import blp as health_blp
    from backend.legacy.routes import blp as legacy_blp
    from backend.members.admin_routes import blp as member_records_blp
    from backend.members.routes import blp as members_blp
    from backend.middleware import init_middleware
    from backend.observability import init_observability
    from backend.sessions.routes import blp as sessions_blp
    from backend.staff.routes import blp as staff_blp
    from backend.stats.routes import blp as stats_blp
    from backend.throttling import init_throttling
    from backend.users.routes import blp as users_blp
    from backend.vaccination.catalogue_routes import blp as catalogue_blp
    from backend.vaccination.certificate_routes import blp as certificates_blp
    from backend.vaccination.correction_routes import blp as corrections_blp
    from backend.vaccination.routes import blp as vaccinations_blp

    api = Api(app, spec_kwargs={"components": {"securitySchemes": SECURITY_SCHEMES}})
    blueprints = (
        health_blp,
        auth_blp,
        users_blp,
        mfa_blp,
        sign_in_sessions_blp,
        members_blp,
        member_records_blp,
        catalogue_blp,
        vaccinations_blp,
        certificates_blp,
        corrections_blp,
        sessions_blp,
        appointments_blp,
        administrations_blp,
        staff_blp,
        stats_blp,
        audit_blp,
        legacy_blp,
        prototype,  # last: the routes above declare its URLs (their `@blp.alias`)
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    init_throttling(app)
    init_observability(app)
    init_middleware(app)

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/docs/assets/<path:filename>")
    def swagger_ui_assets(filename):
        return send_from_directory(assets, filename, max_age=86400)


def register_errorhandlers(app: Flask) -> None:
    from backend.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from backend.commands import register_commands as register

    register(app)


SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "oauth2": {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/auth/token", "scopes": {}}},
    },
}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys and waits for locks only when asked to."""
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
