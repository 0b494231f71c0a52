"""SQLAlchemy models, one module per aggregate."""

from backend.models.audit import AuditEvent, AuditHead
from backend.models.center import Center
from backend.models.token import CodePurpose, OneTimeCode, RevokedToken
from backend.models.user import Role, User
from backend.models.vaccination import Certificate, Status, Vaccination
from backend.models.vaccine import Vaccine

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Center",
    "Certificate",
    "CodePurpose",
    "OneTimeCode",
    "RevokedToken",
    "Role",
    "Status",
    "User",
    "Vaccination",
    "Vaccine",
]
