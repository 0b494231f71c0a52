"""SQLAlchemy models, one module per aggregate."""

from backend.models.audit import AuditEvent, AuditHead
from backend.models.token import CodePurpose, OneTimeCode, RevokedToken
from backend.models.user import Role, User

__all__ = ["AuditEvent", "AuditHead", "CodePurpose", "OneTimeCode", "RevokedToken", "Role", "User"]
