"""SQLAlchemy models, one module per aggregate."""

from backend.models.appointment import Appointment, AppointmentStatus
from backend.models.audit import AuditEvent, AuditHead
from backend.models.center import Center
from backend.models.correction import Correction, CorrectionStatus
from backend.models.member import Member
from backend.models.mfa import MfaChallenge, RecoveryCode
from backend.models.reminder import Reminder
from backend.models.session import SessionStatus, VaccinationSession
from backend.models.sign_in import SignInSession
from backend.models.tally import CenterMonthTally, CenterTally, VaccineTally
from backend.models.token import CodePurpose, OneTimeCode
from backend.models.user import Role, User
from backend.models.vaccination import Certificate, Status, Vaccination
from backend.models.vaccine import Vaccine

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "AuditHead",
    "Center",
    "CenterMonthTally",
    "CenterTally",
    "Certificate",
    "Correction",
    "CorrectionStatus",
    "CodePurpose",
    "Member",
    "MfaChallenge",
    "RecoveryCode",
    "Reminder",
    "OneTimeCode",
    "Role",
    "SessionStatus",
    "SignInSession",
    "Status",
    "User",
    "Vaccination",
    "VaccinationSession",
    "Vaccine",
    "VaccineTally",
]
