"""Throttling with Flask-Limiter: per client address and per submitted username or email.

One Limiter per app (Flask-Limiter keeps its storage and switches on the instance), with the
limits declared in one table here and wrapped around the app's own view functions, rather than
as module-level decorators, so several apps in one process (the tests) never share state.
Workers and instances that share REDIS_URL count together.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

log = logging.getLogger(__name__)


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the client's address here.
    return get_remote_address() or "unknown"


def _submitted(field: str) -> str:
    """A field from the form or JSON body, normalised like an email (unknown or known alike)."""
    value = request.form.get(field)
    if value is None:
        body = request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    return f"{field}:{str(value).strip().lower()[:254]}" if value else f"{field}:-"


def submitted_username() -> str:
    return _submitted("username")


def submitted_email() -> str:
    return _submitted("email")


def _failed(response) -> bool:
    return response.status_code >= 400


def _setting(name: str):
    return lambda: current_app.config[name]


def init_throttling(app: Flask) -> Limiter | None:
    """Attach a Limiter to `app` and wrap the throttled views (aliases included) in it."""
    from backend.auth import routes as auth

    if not app.config["RATELIMIT_ENABLED"]:
        return None

    limiter = Limiter(
        key_func=client_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        key_prefix=app.config["RATELIMIT_KEY_PREFIX"],
        strategy="moving-window",
        headers_enabled=True,
        # Fail open: if Redis is unreachable, serve the request (Flask-Limiter logs the error).
        swallow_errors=True,
    )
    throttles = [
        (auth.token, "RATELIMIT_SIGN_IN_PER_ADDRESS", client_address, None),
        (auth.token, "RATELIMIT_SIGN_IN_PER_USERNAME", submitted_username, _failed),
        (auth.forgot_password, "RATELIMIT_FORGOT_PER_EMAIL", submitted_email, None),
        (auth.forgot_password, "RATELIMIT_FORGOT_PER_ADDRESS", client_address, None),
        (auth.verify_reset_code, "RATELIMIT_RESET_PER_EMAIL", submitted_email, None),
        (auth.verify_reset_code, "RATELIMIT_RESET_PER_ADDRESS", client_address, None),
        (auth.reset_password, "RATELIMIT_RESET_PER_EMAIL", submitted_email, None),
        (auth.reset_password, "RATELIMIT_RESET_PER_ADDRESS", client_address, None),
        (auth.register, "RATELIMIT_REGISTER_PER_ADDRESS", client_address, None),
        (auth.request_verification, "RATELIMIT_VERIFY_PER_ADDRESS", client_address, None),
    ]
    wrapped = {}
    for view, setting, key, deduct_when in throttles:
        inner = wrapped.get(view, view)
        limit = limiter.limit(_setting(setting), key_func=key, deduct_when=deduct_when)
        wrapped[view] = limit(inner)
    for endpoint, view in list(app.view_functions.items()):
        if view in wrapped:
            app.view_functions[endpoint] = wrapped[view]
    app.extensions["throttling"] = limiter  # the wrappers hold only a weak reference to it
    return limiter
