"""Request hygiene in one place: request ids, body types, unsafe text, and security headers."""

from __future__ import annotations

import os
import re

from flask import Flask, current_app, g, request
from flask_smorest import abort
from werkzeug.middleware.proxy_fix import ProxyFix

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
JSON = "application/json"
FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}
# A client's id for tracing is kept only if it cannot read as anything else in the audit trail
# or logs ("approved-by:admin2" once could); otherwise the request gets a generated one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# NUL, and UTF-16 surrogates that are not part of a pair (JSON allows "\ud800" alone).
UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
# In UTF-8 JSON both can only come as \u escapes (raw ones are invalid JSON or UTF-8), so a
# body without such an escape or a zero byte (UTF-16/32 JSON, which Flask also reads) needs no
# walk through every key and value (a C-speed scan, not a Python walk over 80,000 keys).
UNSAFE_ESCAPE = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])")


def init_middleware(app: Flask) -> None:
    """Install the hooks."""
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    app.before_request(screen_request)
    app.after_request(add_headers)


def screen_request() -> None:
    """One hook for every request (each hook costs a call on the hot path)."""
    assign_request_id()
    if request.method in BODY_METHODS and _has_body():
        check_body_type()
        refuse_unsafe_text()
    elif request.query_string:
        refuse_unsafe_text()


def assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"


def check_body_type() -> None:
    """415 for a body in a media type the route does not take (JSON, or forms where the
    route says `@blp.accepts_forms`)."""
    view = current_app.view_functions.get(request.endpoint)
    allowed = {JSON} | (FORMS if getattr(view, "accepts_forms", False) else set())
    if request.mimetype not in allowed:
        abort(415, message=f"Send the body as {' or '.join(sorted(allowed))}.")


def _unsafe_paths(value, path: str):
    if isinstance(value, str):
        if UNSAFE_TEXT.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unsafe_paths(key, path)
            yield from _unsafe_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unsafe_paths(item, f"{path}.{index}" if path else str(index))


def refuse_unsafe_text() -> None:
    """422 for NUL bytes or lone surrogates anywhere: no database stores them."""
    sources = {"query": request.args.to_dict(flat=False)}
    if request.method in BODY_METHODS and _has_body():
        if request.mimetype == JSON:
            if UNSAFE_ESCAPE.search(request.get_data(cache=True)):
                sources["json"] = request.get_json(silent=True)
        else:
            sources["form"] = request.form.to_dict(flat=False)
    errors = {}
    for location, data in sources.items():
        for path in _unsafe_paths(data, ""):
            errors.setdefault(location, {})[path or "_body"] = [
                "Text must not contain NUL characters or unpaired surrogates."
            ]
    if errors:
        abort(422, message="The request contains text that cannot be stored.", errors=errors)


def add_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config["HSTS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response
