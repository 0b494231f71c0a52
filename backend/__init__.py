"""The vaccination registration service: `create_app()` builds it in named steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import FunctionType

import swagger_ui_bundle
from flask import Flask, send_from_directory
from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.observability import configure_logging
from config import load_config


class App(Flask):
    """Flask, remembering which functions are plain `def`s.

    Flask asks `inspect.iscoroutinefunction` of every hook and view on every request (nine
    times for GET /users/me); the answer for a function never changes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain: set[FunctionType] = set()

    def ensure_sync(self, func: Callable) -> Callable:
        if func in self._plain:
            return func
        answer = super().ensure_sync(func)
        if answer is func and type(func) is FunctionType:  # long-lived: hooks, views, handlers
            self._plain.add(func)
        return answer


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
    from backend.auth.jwt import configure_jwt
    from backend.extensions import cors, db, jwt, migrate

    db.init_app(app)
    notify.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    jwt.init_app(app)
    configure_jwt(jwt)
    if app.config["CORS_ORIGINS"]:
        cors.init_app(
            app,
            origins=app.config["CORS_ORIGINS"],
            expose_headers=["X-Pagination", "X-Request-ID"],
        )


def register_blueprints(app: Flask) -> None:
    from backend.api import Api
    from backend.audit.routes import blp as audit_blp
    from backend.auth import routes as auth_routes
    from backend.auth.routes import blp as auth_blp
    from backend.compat import register_aliases
    from backend.health import blp as health_blp
    from backend.middleware import init_middleware
    from backend.observability import init_observability
    from backend.throttling import init_throttling
    from backend.users.routes import blp as users_blp
    from backend.vaccination.catalogue_routes import blp as catalogue_blp
    from backend.vaccination.certificate_routes import blp as certificates_blp
    from backend.vaccination.routes import blp as vaccinations_blp

    api = Api(app, spec_kwargs={"components": {"securitySchemes": SECURITY_SCHEMES}})
    blueprints = (
        health_blp,
        auth_blp,
        users_blp,
        catalogue_blp,
        vaccinations_blp,
        certificates_blp,
        audit_blp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    register_aliases(app)
    init_throttling(app)
    init_observability(app)
    init_middleware(
        app,
        form_views={
            auth_routes.token,
            auth_routes.forgot_password,
            auth_routes.verify_reset_code,
            auth_routes.reset_password,
        },
    )

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
