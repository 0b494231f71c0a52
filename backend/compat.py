"""The prototype's routes, each an alias of a real handler, so its web client keeps working."""

from flask import Flask

from backend.users import routes as users

# The other prototype URLs are declared on their routes (`@blp.alias`, backend/api.py).
ALIASES = [
    ("/profile", "profile", users.me, ["GET"]),
]


def register_aliases(app: Flask) -> None:
    for rule, name, view, methods in ALIASES:
        app.add_url_rule(rule, endpoint=f"compat.{name}", view_func=view, methods=methods)
