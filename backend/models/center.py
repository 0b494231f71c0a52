"""Vaccination centers, searchable by city."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime


def city_key(city: str) -> str:
    """The form a city is compared in: case and runs of spaces ignored."""
    return " ".join(city.split()).casefold()


class Center(db.Model):
    __tablename__ = "centers"
    # The search by city, by name: one index range, already in page order.
    __table_args__ = (Index("ix_centers_city_key_name_id", "city_key", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    # city_key(city), indexed, so the case-insensitive city filter is an index lookup everywhere.
    city_key: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())

    @validates("city")
    def _keep_city_key(self, _key: str, city: str) -> str:
        self.city_key = city_key(city)
        return city

    def __repr__(self) -> str:
        return f"<Center {self.id} {self.name!r}>"
