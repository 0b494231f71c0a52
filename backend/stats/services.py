"""Counting approved doses from the dose tallies (backend/stats/tallies.py), not the doses."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, select, union_all

from backend.extensions import db
from backend.models import Center, CenterMonthTally, CenterTally, Vaccine, VaccineTally
from backend.sessions.calendar import local_today


def _tally(group_by: str):
    """(tally, its grouped columns) holding `group_by`."""
    if group_by in ("center", "city"):
        return CenterTally, (CenterTally.center_id,)
    if group_by == "vaccine":
        return VaccineTally, (VaccineTally.vaccine_id,)
    if group_by == "dose_number":
        return VaccineTally, (VaccineTally.dose_number,)
    return VaccineTally, (VaccineTally.day,)


def _summed(group_by: str, start: date | None, end: date | None):
    """Doses per group over the days asked, as a subquery (key, doses); no empty groups."""
    tally, columns = _tally(group_by)
    if tally is CenterTally:
        parts = _center_parts(start, end)
        rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        doses = func.sum(rows.c.doses)
        query = select(rows.c.center_id, doses.label("doses")).group_by(rows.c.center_id)
        return query.having(doses > 0).subquery()
    doses = func.sum(tally.doses)
    query = select(*columns, doses.label("doses")).group_by(*columns).having(doses > 0)
    return _within(query, tally.day, start, end).subquery()


def _within(query, day, start: date | None, end: date | None):
    if start is not None:
        query = query.where(day >= start)
    if end is not None:
        query = query.where(day <= end)
    return query


def _center_parts(start: date | None, end: date | None) -> list:
    """(center_id, doses) rows covering the range: whole months from the monthly tally, the
    days before the first whole month and after the last from the daily one."""
    first = None if start is None else _first_whole_month(start)
    after = None if end is None else _after_whole_months(end)
    if first is not None and after is not None and first >= after:  # no whole month inside
        return [_within(_center_days(), CenterTally.day, start, end)]
    months = select(CenterMonthTally.center_id, CenterMonthTally.doses)
    if first is not None:
        months = months.where(CenterMonthTally.month >= first)
    if after is not None:
        months = months.where(CenterMonthTally.month < after)
    parts = [months]
    if start is not None and start < first:
        parts.append(_within(_center_days(), CenterTally.day, start, first - timedelta(days=1)))
    if end is not None and after <= end:
        parts.append(_within(_center_days(), CenterTally.day, after, end))
    return parts


def _center_days():
    return select(CenterTally.center_id, CenterTally.doses)


def _first_whole_month(start: date) -> date:
    """The first day of the first month that starts on or after `start`."""
    if start.day == 1:
        return start
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _after_whole_months(end: date) -> date:
    """The first day of the month after the last month that ends on or before `end`."""
    return (end + timedelta(days=1)).replace(day=1)


def dose_counts(group_by: str, start: date | None, end: date | None) -> list[dict]:
    """Approved doses given from `start` to `end` (inclusive, either open), per group."""
    summed = _summed(group_by, start, end)
    key = summed.c[0]
    # Summed first, then joined: the join touches one row per center or vaccine, not per day.
    if group_by == "center":
        query = select(key, Center.name, summed.c.doses).join(Center, Center.id == key)
    elif group_by == "city":
        query = (
            select(Center.city_key, func.min(Center.city), func.sum(summed.c.doses))
            .join(Center, Center.id == key)
            .group_by(Center.city_key)
        )
        key = Center.city_key
    elif group_by == "vaccine":
        query = select(key, Vaccine.name, summed.c.doses).join(Vaccine, Vaccine.id == key)
    else:
        query = select(key, key, summed.c.doses)
    rows = db.session.execute(query.order_by(key))
    return [
        {"group": _plain(group), "label": str(_plain(name)), "doses": int(doses)}
        for group, name, doses in rows
    ]


def _plain(value):
    """Days as ISO dates (JSON and CSV alike), other keys as they are."""
    return value.isoformat() if isinstance(value, date) else value


def as_csv(counts: list[dict], group_by: str) -> str:
    """The counts as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([group_by, "label", "doses"])
    for row in counts:
        writer.writerow([row["group"], row["label"], row["doses"]])
    return out.getvalue()


def _per_vaccine(day: date | None = None) -> dict:
    counts = dose_counts("vaccine", day, day)
    by_vaccine = sorted(({"vaccine": c["label"], "doses": c["doses"]} for c in counts), key=_name)
    return {"doses": sum(row["doses"] for row in by_vaccine), "by_vaccine": by_vaccine}


def _name(row: dict) -> str:
    return row["vaccine"]


def public_counts() -> dict:
    """Doses given today and in total, per vaccine."""
    today = local_today()
    return {"date": today, "today": _per_vaccine(today), "total": _per_vaccine()}
