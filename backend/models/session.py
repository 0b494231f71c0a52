"""Sessions: a center offering one vaccine on one day to a bounded number of people."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import clock
from backend.extensions import db
from backend.models.center import Center
from backend.models.types import UTCDateTime
from backend.models.vaccine import Vaccine


class SessionStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


OPEN_ONLY = text("status = 'open'")


class VaccinationSession(db.Model):
    __tablename__ = "vaccination_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'cancelled')", name="status"),
        CheckConstraint("capacity >= 0", name="capacity"),
        # The last guard against overbooking: whatever the code does, the database refuses it.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked"),
        # One open session per center, vaccine and day.
        Index(
            "uq_vaccination_sessions_open",
            "center_id",
            "vaccine_id",
            "date",
            unique=True,
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
        # The public search reads open sessions in page order (date, center, id): one index
        # range, index-only for the bounded count, for all sessions or a city's; a center's
        # use (center_id, date).
        Index(
            "ix_vaccination_sessions_open_date_center_id_id",
            "date",
            "center_id",
            "id",
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
        Index(
            "ix_vaccination_sessions_open_city_key_date_center_id_id",
            "city_key",
            "date",
            "center_id",
            "id",
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
        Index("ix_vaccination_sessions_center_id_date", "center_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="RESTRICT"))
    vaccine_id: Mapped[int] = mapped_column(
        ForeignKey("vaccines.id", ondelete="RESTRICT"), index=True
    )
    date: Mapped[date] = mapped_column(Date)
    # The center's city_key, copied (and kept in step by the catalogue) so that a search by city
    # is one index range in page order rather than a filter over every day's sessions.
    city_key: Mapped[str] = mapped_column(String(80))
    capacity: Mapped[int] = mapped_column(Integer)
    # Places taken; changed only by conditional UPDATEs (backend/appointments/places.py).
    booked: Mapped[int] = mapped_column(Integer, default=0)
    # A session may be narrower than its vaccine (say, 45 and over on that day).
    min_age: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())

    center: Mapped[Center] = relationship()
    vaccine: Mapped[Vaccine] = relationship()

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0) if self.status == SessionStatus.OPEN else 0

    def __repr__(self) -> str:
        return f"<VaccinationSession {self.id} {self.date} {self.booked}/{self.capacity}>"
