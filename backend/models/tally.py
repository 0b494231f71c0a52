"""Dose tallies: approved doses counted per day, kept in the transaction that gives or revokes one.

Statistics read these small tables instead of counting a million vaccinations. Separate tables,
so none grows with the product of centers, vaccines and doses: per day and center, and per month
and center (center and city statistics: whole months from the second, the days at either end of
a range from the first), and per day, vaccine and dose number (the rest, and the public figures).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db


class CenterTally(db.Model):
    __tablename__ = "dose_tallies_by_center"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    center_id: Mapped[int] = mapped_column(
        ForeignKey("centers.id", ondelete="RESTRICT"), primary_key=True
    )
    doses: Mapped[int] = mapped_column(Integer)


class CenterMonthTally(db.Model):
    __tablename__ = "dose_tallies_by_center_month"

    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    center_id: Mapped[int] = mapped_column(
        ForeignKey("centers.id", ondelete="RESTRICT"), primary_key=True
    )
    doses: Mapped[int] = mapped_column(Integer)


class VaccineTally(db.Model):
    __tablename__ = "dose_tallies_by_vaccine"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    vaccine_id: Mapped[int] = mapped_column(
        ForeignKey("vaccines.id", ondelete="RESTRICT"), primary_key=True
    )
    dose_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    doses: Mapped[int] = mapped_column(Integer)
