"""SQLAlchemy models, one module per aggregate."""

from backend.models.user import Role, User

__all__ = ["Role", "User"]
