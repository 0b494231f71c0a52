"""Appointments: a place in a session, booked for the next dose of an account holder or member."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import clock
from backend.extensions import db
from backend.models.session import VaccinationSession
from backend.models.types import UTCDateTime
from backend.models.vaccination import Vaccination


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'cancelled')", name="status"),
        CheckConstraint("reschedules >= 0", name="reschedules"),
        CheckConstraint("failed_codes >= 0", name="failed_codes"),
        # An officer's list of a session's appointments, in booking order.
        Index("ix_appointments_session_id_id", "session_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("vaccination_sessions.id", ondelete="RESTRICT")
    )
    # The registration for the dose: reviews and certificates work on it as on a walk-in's.
    vaccination_id: Mapped[int] = mapped_column(
        ForeignKey("vaccinations.id", ondelete="RESTRICT"), unique=True
    )
    # Four digits, from secrets, shown to the person and asked for at the center.
    code: Mapped[str] = mapped_column(String(4))
    # Wrong codes given at the center; at MAX_FAILED_CODES only an officer can record the dose.
    failed_codes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    reschedules: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[VaccinationSession] = relationship()
    vaccination: Mapped[Vaccination] = relationship(back_populates="appointment")

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.status} session={self.session_id}>"
