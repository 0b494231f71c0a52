"""Days and the booking cut-off in the service's time zone, from the one clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from backend import clock


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_now() -> datetime:
    """Now, in TIMEZONE."""
    return clock.utcnow().astimezone(zone())


def local_today() -> date:
    """Today's date in TIMEZONE, where sessions take place."""
    return local_now().date()


def booking_closes_at(session_date: date) -> datetime | None:
    """When booking for a session on `session_date` closes; None when BOOKING_CUTOFF is off."""
    cutoff = current_app.config["BOOKING_CUTOFF"]
    if cutoff is None:
        return None
    return datetime.combine(session_date - timedelta(days=1), time.fromisoformat(cutoff), zone())


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day`: the birthday itself counts (29 February: 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
