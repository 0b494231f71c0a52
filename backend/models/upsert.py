"""INSERT ... ON CONFLICT for the database in use: both dialects we run on have it."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert(model):
    """An INSERT of `model` that takes `.on_conflict_do_update` / `.on_conflict_do_nothing`."""
    return _INSERTS[db.engine.dialect.name](model)
