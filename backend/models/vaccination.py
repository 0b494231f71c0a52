"""Registrations for a vaccine dose, and the admin review that approves or rejects them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import clock
from backend.extensions import db
from backend.models.center import Center
from backend.models.member import Member
from backend.models.types import UTCDateTime
from backend.models.user import User
from backend.models.vaccine import Vaccine
from backend.privacy.fields import EncryptedText

if TYPE_CHECKING:
    from backend.models.appointment import Appointment


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    # An approved record entered in error; its certificate is revoked and it no longer counts.
    REVOKED = "revoked"


# One open registration per person: the account holder (member_id NULL) or a member.
HOLDER_PENDING = text("status = 'pending' AND member_id IS NULL")
MEMBER_PENDING = text("status = 'pending'")
GIVEN = text("status = 'approved'")


class Vaccination(db.Model):
    __tablename__ = "vaccinations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'cancelled', 'revoked')", name="status"
        ),
        CheckConstraint("dose_number >= 1", name="dose_number"),
        # At most one open registration (or live appointment) per person, settled by the
        # database under races.
        Index(
            "uq_vaccinations_one_pending",
            "user_id",
            unique=True,
            sqlite_where=HOLDER_PENDING,
            postgresql_where=HOLDER_PENDING,
        ),
        Index(
            "uq_vaccinations_member_one_pending",
            "member_id",
            unique=True,
            sqlite_where=MEMBER_PENDING,
            postgresql_where=MEMBER_PENDING,
        ),
        Index("ix_vaccinations_member_id_created_at", "member_id", "created_at"),
        # The admin list: newest first (created_at, then id), by status, by center, or neither;
        # the owner's list. With id in the index a page is a bounded index scan, no sort.
        Index("ix_vaccinations_status_created_at_id", "status", "created_at", "id"),
        Index("ix_vaccinations_center_id_created_at_id", "center_id", "created_at", "id"),
        Index("ix_vaccinations_user_id_created_at", "user_id", "created_at"),
        # Statistics: approved doses by day, then center, vaccine or dose number; the index
        # covers every grouping but the city's (a join to the few centers).
        Index(
            "ix_vaccinations_given_date_center_vaccine_dose",
            "vaccination_date",
            "center_id",
            "vaccine_id",
            "dose_number",
            sqlite_where=GIVEN,
            postgresql_where=GIVEN,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: records outlive nothing silently; accounts are soft-deleted, never cascaded.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The dependant this dose is for; None: the account holder.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    vaccine_id: Mapped[int] = mapped_column(
        ForeignKey("vaccines.id", ondelete="RESTRICT"), index=True
    )
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="RESTRICT"))
    dose_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    preferred_date: Mapped[date | None] = mapped_column(Date)
    vaccination_date: Mapped[date | None] = mapped_column(Date)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    # Set when a vaccinator gave the dose (an officer's back-office approval leaves them empty).
    batch: Mapped[str | None] = mapped_column(String(64))
    administered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    administered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=lambda: clock.utcnow(), index=True
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    member: Mapped[Member | None] = relationship()
    vaccine: Mapped[Vaccine] = relationship()
    center: Mapped[Center] = relationship()
    # The live certificate: the one no correction has superseded (it may be revoked in error).
    certificate: Mapped[Certificate | None] = relationship(
        primaryjoin="and_(Vaccination.id == foreign(Certificate.vaccination_id), "
        "Certificate.superseded_by_id == None)",
        viewonly=True,
    )
    appointment: Mapped[Appointment | None] = relationship(
        "Appointment", back_populates="vaccination", viewonly=True
    )

    @property
    def holder(self) -> User | Member:
        """The person vaccinated: the member, or else the account holder."""
        return self.member or self.user

    def __repr__(self) -> str:
        return f"<Vaccination {self.id} {self.status} dose={self.dose_number}>"


# At most one unrevoked certificate per vaccination, whatever races the approvals run.
LIVE = text("revoked_at IS NULL")


class Certificate(db.Model):
    """The signed proof of one approved dose; revoked when entered in error or superseded."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index(
            "uq_certificates_vaccination_live",
            "vaccination_id",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        ),
    )

    # Public, random, printed on the PDF and carried in the token.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Several when corrections superseded earlier ones; one of them unrevoked.
    vaccination_id: Mapped[int] = mapped_column(ForeignKey("vaccinations.id", ondelete="RESTRICT"))
    # The signed token holds the holder's name and date of birth: encrypted like them.
    token: Mapped[str] = mapped_column(EncryptedText("certificates.token"))
    key_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    # The certificate a correction issued in this one's place (revoke_reason "superseded").
    superseded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="RESTRICT")
    )

    vaccination: Mapped[Vaccination] = relationship()

    def __repr__(self) -> str:
        return f"<Certificate {self.id} revoked={self.revoked_at is not None}>"
