"""Vaccines in the catalogue: doses, their spacing, the eligible ages and the booster."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db


class Vaccine(db.Model):
    __tablename__ = "vaccines"
    __table_args__ = (
        CheckConstraint("doses_required >= 1", name="doses_required"),
        CheckConstraint("dose_interval_days >= 0", name="dose_interval_days"),
        CheckConstraint("min_age >= 0", name="min_age"),
        CheckConstraint("max_age IS NULL OR max_age >= min_age", name="max_age"),
        CheckConstraint("booster_interval_days >= 0", name="booster_interval_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    manufacturer: Mapped[str] = mapped_column(String(120))
    doses_required: Mapped[int] = mapped_column(Integer)
    # Minimum days between one dose and the next.
    dose_interval_days: Mapped[int] = mapped_column(Integer)
    # Eligible ages in whole years on the session's day (max_age None: no upper bound).
    min_age: Mapped[int] = mapped_column(Integer, default=18, server_default="18")
    max_age: Mapped[int | None] = mapped_column(Integer)
    # Days after the last dose of the primary series before one booster; None: no booster.
    booster_interval_days: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<Vaccine {self.id} {self.name!r}>"
