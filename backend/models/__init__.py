"""SQLAlchemy models, one module per aggregate."""

from backend.models.center import Center
from backend.models.user import Role, User
from backend.models.vaccination import Certificate, Status, Vaccination
from backend.models.vaccine import Vaccine

__all__ = ["Center", "Certificate", "Role", "Status", "User", "Vaccination", "Vaccine"]
