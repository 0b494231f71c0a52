"""Accounts: citizens who register for vaccination, the admins (health officers) who review,
and vaccinators who give doses at one center."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime
from backend.privacy.fields import BLIND_INDEX_LENGTH, EncryptedDate, EncryptedText, indexed


class Role(enum.IntEnum):
    """Fixed roles; the numbers are the prototype's role_id values."""

    CITIZEN = 1
    ADMIN = 2
    VACCINATOR = 3


# The roles that may register themselves (or their members) for vaccination.
PERSONAL_ROLES = (Role.CITIZEN, Role.ADMIN)
# The password hash of a person record a vaccinator created for a walk-in: no sign-in is possible
# until an account registering the same NID takes the record over.
WALK_IN_PASSWORD = "!walk-in"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role_id IN (1, 2, 3)", name="role"),
        # A vaccinator works at exactly one center; nobody else is attached to one.
        CheckConstraint("(role_id = 3) = (center_id IS NOT NULL)", name="center_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Personal fields are encrypted (backend/privacy); those looked up or unique have a blind
    # index beside them, which the unique constraints are on. The email is stored normalised
    # (lower-case), so its index is case-insensitive.
    email: Mapped[str] = mapped_column(EncryptedText("users.email"))
    email_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(Integer, default=Role.CITIZEN)
    address: Mapped[str | None] = mapped_column(EncryptedText("users.address"))
    # National ID, digits only; optional for staff accounts created from the command line. A
    # purged account keeps only its index, so the person is recognised if they come back.
    nid: Mapped[str | None] = mapped_column(EncryptedText("users.nid"))
    nid_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)
    # The national ID of the person behind a vaccinator's staff account. Not unique: that
    # person may also hold a citizen account or be someone's member under the same NID; no dose
    # for this NID is ever recorded by this account (backend/administrations refuse_self).
    staff_nid: Mapped[str | None] = mapped_column(EncryptedText("users.staff_nid"))
    phone_number: Mapped[str | None] = mapped_column(EncryptedText("users.phone_number"))
    phone_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH), index=True)
    # Optional at sign-up, needed to book: eligibility is by age on the session's day.
    date_of_birth: Mapped[date | None] = mapped_column(EncryptedDate("users.date_of_birth"))
    # The center a vaccinator works at (role 3 only).
    center_id: Mapped[int | None] = mapped_column(
        ForeignKey("centers.id", ondelete="RESTRICT"), index=True
    )
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Revocation without a query of its own: tokens carry the version they were issued under;
    # a reset, password change or deletion bumps it. A password change keeps the one session
    # that made it (kept_jti) alive.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    kept_jti: Mapped[str | None] = mapped_column(String(64))
    # Two-factor sign-in (backend/auth/mfa.py): on once a code from the authenticator confirms
    # it; the TOTP secret encrypted (AES-GCM); the last time step accepted, so that a code is
    # accepted once. The flag comes with the caller's row (the staff gate reads it there).
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_secret: Mapped[str | None] = mapped_column(String(255))
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Closed accounts are kept (their vaccination records belong to the registry), never shown.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=lambda: clock.utcnow(), onupdate=lambda: clock.utcnow()
    )

    @property
    def is_admin(self) -> bool:
        return self.role_id == Role.ADMIN

    @property
    def is_walk_in(self) -> bool:
        return self.password_hash == WALK_IN_PASSWORD

    def __repr__(self) -> str:
        return f"<User {self.id} role={self.role_id}>"


indexed(User, email="email", nid="nid", phone_number="phone")
