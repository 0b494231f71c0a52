"""Throttling with Flask-Limiter: per client address and per submitted username or email.

Routes declare their throttles with `@blp.throttle(...)` (backend/api.py), naming the action
whose budget a request spends: every URL and body type of one action shares one budget (a
Flask-Limiter shared limit whose scope is the action's name), so an alias is no way around it.

One Limiter per app (Flask-Limiter keeps its storage and switches on the instance), built by
`init_throttling`, rather than one at module level, so several apps in one process (the tests)
never share state. The decorators therefore hold no Limiter: at request time they ask the app's
own Throttling for the check, made once per app and throttle. Workers and instances that share
REDIS_URL count together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend.validation import normalise_email

log = logging.getLogger(__name__)


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the client's address here.
    return get_remote_address() or "unknown"


def submitted(field: str) -> str:
    """A field from the form or JSON body, normalised like an email (unknown or known alike)."""
    value = request.form.get(field)
    if value is None:
        body = request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    return f"{field}:{normalise_email(str(value))[:254]}" if value else f"{field}:-"


def failed(response: Response) -> bool:
    """For `deduct_when`: count only the requests that were refused."""
    return response.status_code >= 400


@dataclass(frozen=True)
class Throttle:
    """One limit on an action: `setting` names the config value ("10/minute"); `per` is
    "address" (the client's), the body field counted ("username", "email"), or a function
    that gives the key; with `deduct_when`, only responses it accepts count."""

    action: str
    setting: str
    per: str | Callable[[], str] = "address"
    deduct_when: Callable[[Response], bool] | None = None

    def key(self) -> str:
        if callable(self.per):
            return self.per()
        return client_address() if self.per == "address" else submitted(self.per)


def throttled(throttle: Throttle) -> Callable:
    """Decorate a view so each request to it spends from `throttle`'s budget (when enabled)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            throttling = current_app.extensions.get("throttling")
            if throttling is not None:
                throttling.check(throttle)  # raises RateLimitExceeded (429) over budget
            return view(*args, **kwargs)

        wrapper.throttled = True  # read by `_unthrottled` (copied outward by functools.wraps)
        return wrapper

    return decorator


class Throttling:
    """The app's Limiter and, per throttle, a check made from its shared limit."""

    def __init__(self, limiter: Limiter):
        self.limiter = limiter
        self._checks: dict[Throttle, Callable[[], None]] = {}
        self._making = threading.Lock()  # two checks for one throttle would count it twice

    def check(self, throttle: Throttle) -> None:
        check = self._checks.get(throttle)
        if check is None:
            with self._making:
                check = self._checks.get(throttle) or self._make_check(throttle)
                self._checks[throttle] = check
        check()

    def _make_check(self, throttle: Throttle) -> Callable[[], None]:
        def check() -> None:
            """Nothing: calling it makes the Limiter check the limit it is decorated with."""

        # The Limiter files a decorated function's limits under its qualified name: one each.
        per = getattr(throttle.per, "__name__", throttle.per)
        check.__qualname__ = f"{throttle.action}[{throttle.setting}, per {per}]"
        limit = self.limiter.shared_limit(
            partial(_setting, throttle.setting),
            scope=throttle.action,
            key_func=throttle.key,
            deduct_when=throttle.deduct_when,
        )
        return limit(check)


def _unthrottled() -> bool:
    """Flask-Limiter's request filter: a route without `@blp.throttle` has no limit to check.

    No default or application limits are configured, so the Limiter's hook before every request
    finds nothing to count on such a route; the filter tells it so before it resolves limits
    (about a third of the CPU of a `GET /health`, docs in bench/notes.md).
    """
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, "throttled", False)


def _setting(name: str) -> str:
    return current_app.config[name]


def init_throttling(app: Flask) -> Throttling | None:
    """Give `app` its own Limiter; the routes' `@blp.throttle` checks spend from it."""
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
    limiter.request_filter(_unthrottled)
    throttling = app.extensions["throttling"] = Throttling(limiter)
    return throttling
