"""The prototype's routes, each an alias of a real handler, so its web client keeps working."""

from flask import Flask

from backend.auth import routes as auth

ALIASES = [
    ("/create", "create", auth.register, ["POST"]),
    ("/login", "login", auth.token, ["POST"]),
    ("/forgot", "forgot", auth.forgot_password, ["POST"]),
    ("/validate", "validate", auth.verify_reset_code, ["POST"]),
]


def register_aliases(app: Flask) -> None:
    for rule, name, view, methods in ALIASES:
        app.add_url_rule(rule, endpoint=f"compat.{name}", view_func=view, methods=methods)
