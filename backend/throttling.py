"""Throttling with `limits`: per client address, per submitted username or email, or per key
function, each a moving window kept in RATELIMIT_STORAGE_URI.

Routes declare their throttles with `@blp.throttle(...)` (backend/api.py), naming the action whose
budget a request spends: the counter is the action's, not the URL's, so every URL and body type of
one action shares one budget and an alias is no way around it.

Only a throttled view runs any of this: the check is made by its decorator, and what is left for
after the response by `after_this_request`, so the app has no hook and a route without a throttle
pays nothing. One Throttling per app, built by `init_throttling`, so several apps in one process
(the tests) never share counts; workers and instances that share REDIS_URL count together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, wraps
from typing import NamedTuple

from flask import Flask, Response, after_this_request, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from backend.errors import Throttled
from backend.validation import normalise_email

log = logging.getLogger(__name__)


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the client's address here.
    return request.remote_addr or "unknown"


def submitted(field: str) -> str:
    """A field from the form or JSON body, normalised like an email (unknown or known alike)."""
    value = request.form.get(field)
    if value is None:
        body = request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    return f"{field}:{normalise_email(str(value))[:254]}" if value else f"{field}:-"


def served(response: Response) -> bool:
    """For `deduct_when`: count what the service answered, not its outages (5xx), so a client
    retrying through a database outage does not spend its budget on the 503s."""
    return response.status_code < 500


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

    def describe(self, limit: RateLimitItem) -> str:
        """For the log: the action, limit and kind of key, never the key (it may be an email)."""
        return f"{self.action}, {limit} per {getattr(self.per, '__name__', self.per)}"


def throttled(throttle: Throttle) -> Callable:
    """Decorate a view so each request to it spends from `throttle`'s budget (when enabled)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            throttling = current_app.extensions.get("throttling")
            if throttling is not None:
                throttling.check(throttle)  # raises Throttled (429) over budget
            return view(*args, **kwargs)

        return wrapper

    return decorator


class Budget(NamedTuple):
    """One limit of one throttle for one key: what the storage counts."""

    limit: RateLimitItem
    identifiers: tuple[str, ...]


@dataclass
class Spending:
    """What a request's throttles leave for after its response."""

    deferred: list[tuple[Budget, Callable[[Response], bool]]] = field(default_factory=list)
    shown: Budget | None = None  # whose numbers the X-RateLimit headers give
    storage_down: bool = False


class Throttling:
    """The app's counters: one moving window per action, key and limit."""

    def __init__(self, storage_uri: str, key_prefix: str):
        # wrap_exceptions: whatever the storage, its failures arrive as one StorageError.
        storage = storage_from_string(storage_uri, wrap_exceptions=True)
        self.limiter = MovingWindowRateLimiter(storage)
        self.key_prefix = (key_prefix,) if key_prefix else ()
        self._limits: dict[str, list[RateLimitItem]] = {}

    def check(self, throttle: Throttle) -> None:
        """Spend from `throttle`'s budget, or with `deduct_when` see that some is left (spent
        after the response if it counts); raise Throttled when none is left."""
        spending = self._spending()
        if spending.storage_down:
            return
        limits = self._parsed(current_app.config[throttle.setting])
        # The same key as Flask-Limiter's shared limits, so counts survive the switch.
        identifiers = (*self.key_prefix, throttle.key(), throttle.action)
        if throttle.per == "address":
            # The headers show the budget of the caller's address only: one keyed by a submitted
            # email or username would tell anyone how often that account was tried.
            spending.shown = Budget(limits[0], identifiers)
        try:
            for limit in limits:
                if throttle.deduct_when is not None:
                    spending.deferred.append((Budget(limit, identifiers), throttle.deduct_when))
                    allowed = self.limiter.test(limit, *identifiers)
                else:
                    allowed = self.limiter.hit(limit, *identifiers)
                if not allowed:
                    spending.shown = Budget(limit, identifiers)
                    log.info("throttled: %s", throttle.describe(limit))
                    raise Throttled(str(limit))
        except StorageError as error:
            self._fail_open(spending, error)

    def _spending(self) -> Spending:
        """This request's Spending, settled after its response (made by its first throttle)."""
        spending = g.get("throttle_spending")
        if spending is None:
            spending = g.throttle_spending = Spending()
            after_this_request(partial(self._settle, spending))
        return spending

    def _settle(self, spending: Spending, response: Response) -> Response:
        """Spend what `deduct_when` counts, then tell the client where it stands (the
        X-RateLimit headers on every answer of a throttled route, Retry-After on a 429)."""
        g.pop("throttle_spending", None)  # an app context can outlive the request
        if spending.storage_down:
            return response
        try:
            for budget, deduct_when in spending.deferred:
                if deduct_when(response):
                    self.limiter.hit(budget.limit, *budget.identifiers)
            if spending.shown is not None:
                _add_headers(response, spending.shown, self.limiter)
        except StorageError as error:
            self._fail_open(spending, error)
        return response

    def _fail_open(self, spending: Spending, error: StorageError) -> None:
        """Serve the request unthrottled: a Redis outage must not stop sign-ins."""
        spending.storage_down = True  # the request's other throttles skip the storage too
        spending.shown = None
        log.warning("throttling storage unavailable, request not throttled: %s", _name(error))

    def _parsed(self, setting: str) -> list[RateLimitItem]:
        """The limits of a setting ("10/minute", or several: "10/minute; 100/day"), shortest
        window first, parsed once per app."""
        limits = self._limits.get(setting)
        if limits is None:
            limits = self._limits[setting] = sorted(parse_many(setting))
        return limits


def _add_headers(response: Response, budget: Budget, limiter: MovingWindowRateLimiter) -> None:
    window_reset, remaining = limiter.get_window_stats(budget.limit, *budget.identifiers)
    reset_at = int(window_reset + 1)
    now = time.time()  # the clock `limits` keeps its windows by
    response.headers["X-RateLimit-Limit"] = str(budget.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    # Retry-After only on the refusal (RFC 9110: it belongs to 429, 503 and redirects): a 200
    # needs no wait, and a 503's own few seconds must not become the window's hour.
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, int(reset_at - now)))


def _name(error: StorageError) -> str:
    # The class only: a storage's message can name its host, and a key can hold an email.
    return type(error.storage_error).__name__


def init_throttling(app: Flask) -> Throttling | None:
    """Give `app` its own Throttling; the routes' `@blp.throttle` checks spend from it."""
    if not app.config["RATELIMIT_ENABLED"]:
        return None
    throttling = app.extensions["throttling"] = Throttling(
        app.config["RATELIMIT_STORAGE_URI"], app.config["RATELIMIT_KEY_PREFIX"]
    )
    return throttling
