"""Vaccines in the catalogue: how many doses each needs and how far apart."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db


class Vaccine(db.Model):
    __tablename__ = "vaccines"
    __table_args__ = (
        CheckConstraint("doses_required >= 1", name="doses_required"),
        CheckConstraint("dose_interval_days >= 0", name="dose_interval_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    manufacturer: Mapped[str] = mapped_column(String(120))
    doses_required: Mapped[int] = mapped_column(Integer)
    # Minimum days between one dose and the next.
    dose_interval_days: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<Vaccine {self.id} {self.name!r}>"
