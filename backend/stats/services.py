"""Counting approved doses with one indexed GROUP BY (ix_vaccinations_given_date_...)."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Center, Status, Vaccination, Vaccine
from backend.sessions.calendar import local_today

GIVEN = Vaccination.status == Status.APPROVED
DOSES = func.count().label("doses")
TO_CENTER = (Center, Vaccination.center_id == Center.id)
TO_VACCINE = (Vaccine, Vaccination.vaccine_id == Vaccine.id)


def _grouping(group_by: str):
    """(group column, label column, joins) for `group_by`."""
    if group_by == "center":
        return Vaccination.center_id, func.min(Center.name), [TO_CENTER]
    if group_by == "city":
        return Center.city_key, func.min(Center.city), [TO_CENTER]
    if group_by == "vaccine":
        return Vaccination.vaccine_id, func.min(Vaccine.name), [TO_VACCINE]
    if group_by == "dose_number":
        return Vaccination.dose_number, None, []
    return Vaccination.vaccination_date, None, []


def dose_counts(group_by: str, start: date | None, end: date | None) -> list[dict]:
    """Approved doses given from `start` to `end` (inclusive, either open), per group."""
    group, label, joins = _grouping(group_by)
    query = select(group, label if label is not None else group, DOSES).select_from(Vaccination)
    for model, on in joins:
        query = query.join(model, on)
    query = query.where(GIVEN)
    if start is not None:
        query = query.where(Vaccination.vaccination_date >= start)
    if end is not None:
        query = query.where(Vaccination.vaccination_date <= end)
    rows = db.session.execute(query.group_by(group).order_by(group))
    return [
        {"group": _plain(key), "label": str(_plain(name)), "doses": doses}
        for key, name, doses in rows
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


def _per_vaccine(*criteria) -> dict:
    query = (
        select(Vaccine.name, DOSES)
        .select_from(Vaccination)
        .join(Vaccine)
        .where(GIVEN, *criteria)
        .group_by(Vaccine.name)
        .order_by(Vaccine.name)
    )
    by_vaccine = [{"vaccine": name, "doses": doses} for name, doses in db.session.execute(query)]
    return {"doses": sum(row["doses"] for row in by_vaccine), "by_vaccine": by_vaccine}


def public_counts() -> dict:
    """Doses given today and in total, per vaccine."""
    today = local_today()
    return {
        "date": today,
        "today": _per_vaccine(Vaccination.vaccination_date == today),
        "total": _per_vaccine(),
    }
