"""Queries over accounts."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from backend.extensions import db
from backend.models import User


def _contains(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(q: str | None, page: int, page_size: int) -> tuple[list[User], int]:
    """One page of accounts whose name, email or NID contains `q`, oldest first, and the total."""
    query = select(User)
    if q:
        pattern = _contains(q)
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                User.nid.like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(
        query.order_by(User.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return list(users), total
