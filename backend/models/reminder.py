"""Reminders sent: one row per appointment or due dose, so a reminder goes out once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime


class Reminder(db.Model):
    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "appointment:<appointment id>" or "dose:<user id>:<member id or 0>:<dose number>"; unique,
    # so a second run (or a racing one) never sends the same reminder again.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # appointment | next_dose | booster
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())

    def __repr__(self) -> str:
        return f"<Reminder {self.key}>"
