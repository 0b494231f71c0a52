"""Keeping the dose tallies exact: one upsert per table in the transaction that changes a dose."""

from __future__ import annotations

from sqlalchemy import Date, delete, func, insert, select, text

from backend.extensions import db
from backend.models import CenterMonthTally, CenterTally, Status, Vaccination, VaccineTally, upsert


def count(vaccination: Vaccination, change: int) -> None:
    """Add `change` (1 given, -1 revoked) to the tallies of the dose's day (an early approval
    without a date: its registration's day, as the migration counted it).

    INSERT ... ON CONFLICT DO UPDATE adds to the row under its lock, so concurrent doses of one
    center and day queue on that row and none is lost; the caller commits with the dose.
    """
    day = vaccination.vaccination_date or vaccination.created_at.date()
    keys = (
        (CenterTally, {"day": day, "center_id": vaccination.center_id}),
        (CenterMonthTally, {"month": day.replace(day=1), "center_id": vaccination.center_id}),
        (
            VaccineTally,
            {
                "day": day,
                "vaccine_id": vaccination.vaccine_id,
                "dose_number": vaccination.dose_number,
            },
        ),
    )
    for model, key in keys:
        statement = upsert.insert(model).values(**key, doses=change)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=list(key), set_={"doses": model.doses + statement.excluded.doses}
            )
        )


def rebuild() -> tuple[int, int]:
    """Recount both tallies from the vaccinations (after a bulk import); the rows written."""
    given = Vaccination.status == Status.APPROVED
    day = func.coalesce(Vaccination.vaccination_date, func.date(Vaccination.created_at))
    if db.engine.dialect.name == "postgresql":  # a bulk statement, past the requests' limit
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
    written = []
    for model, columns in (
        (CenterTally, (day, Vaccination.center_id)),
        (
            VaccineTally,
            (day, Vaccination.vaccine_id, Vaccination.dose_number),
        ),
    ):
        db.session.execute(delete(model))
        names = ["day", *(column.key for column in columns[1:]), "doses"]
        source = select(*columns, func.count()).where(given).group_by(*columns)
        result = db.session.execute(insert(model).from_select(names, source))
        written.append(result.rowcount)
    db.session.execute(delete(CenterMonthTally))
    month = month_start(CenterTally.day)
    by_month = select(month, CenterTally.center_id, func.sum(CenterTally.doses))
    db.session.execute(
        insert(CenterMonthTally).from_select(
            ["month", "center_id", "doses"], by_month.group_by(month, CenterTally.center_id)
        )
    )
    db.session.commit()
    return written[0], written[1]


def month_start(day):
    """SQL for the first day of `day`'s month, on either database."""
    if db.engine.dialect.name == "postgresql":
        return func.cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")
