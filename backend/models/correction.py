"""Corrections: a holder's request to fix the name or date of birth on a certificate."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime
from backend.models.vaccination import Certificate
from backend.privacy.fields import EncryptedDate


class CorrectionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Correction(db.Model):
    __tablename__ = "certificate_corrections"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        # The admins' queue by status, oldest first; and a person's count against the limit.
        Index("ix_certificate_corrections_status_id", "status", "id"),
        Index("ix_certificate_corrections_person", "user_id", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[str] = mapped_column(
        ForeignKey("certificates.id", ondelete="RESTRICT"), index=True
    )
    # The person corrected: the account holder (member_id NULL) or one of their members.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    name: Mapped[str | None] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(
        EncryptedDate("certificate_corrections.date_of_birth")
    )
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=CorrectionStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    new_certificate_id: Mapped[str | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="RESTRICT")
    )

    certificate: Mapped[Certificate] = relationship(foreign_keys=[certificate_id])

    def __repr__(self) -> str:
        return f"<Correction {self.id} {self.status} certificate={self.certificate_id}>"
