"""SQLAlchemy models, one module per aggregate."""

from backend.models.token import CodePurpose, OneTimeCode, RevokedToken
from backend.models.user import Role, User

__all__ = ["CodePurpose", "OneTimeCode", "RevokedToken", "Role", "User"]
