"""`flask demo sessions`: bulk open sessions over the seeded centers, for search benchmarks.

Each run starts the day after the latest session already there (or the day after tomorrow),
and fills every center and vaccine for one day before moving to the next, so runs add up and
never clash with the one-open-session-per-center-vaccine-and-day rule.
"""

from __future__ import annotations

from datetime import date, timedelta

import click
from sqlalchemy import func, insert, select, text

from backend import clock
from backend.demo import BATCH, demo_cli, settle
from backend.extensions import db
from backend.models import Center, VaccinationSession, Vaccine

INSERT_ON_POSTGRESQL = text(
    "INSERT INTO vaccination_sessions (center_id, vaccine_id, date, city_key, capacity, booked,"
    " status, created_at)"
    " SELECT g.center_id, g.vaccine_id, g.day, c.city_key, :capacity, 0, 'open', :now FROM ("
    "  SELECT cs.ids[1 + i % cs.n] AS center_id, vs.ids[1 + (i / cs.n) % vs.n] AS vaccine_id,"
    "   CAST(:first_day AS date) + CAST(i / (cs.n * vs.n) AS integer) AS day"
    "  FROM generate_series(0::bigint, :sessions - 1) AS i,"
    "   (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM centers) AS cs,"
    "   (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM vaccines) AS vs"
    " ) AS g JOIN centers AS c ON c.id = g.center_id"
)


@demo_cli.command("sessions")
@click.option("--count", "sessions", default=1000, show_default=True, help="Sessions to add")
@click.option("--capacity", default=100, show_default=True, help="Places in each")
def seed_sessions(sessions: int, capacity: int) -> None:
    """Add open sessions: every center and vaccine on a day, then the next day."""
    centers = list(db.session.execute(select(Center.id, Center.city_key).order_by(Center.id)))
    vaccines = list(db.session.scalars(select(Vaccine.id).order_by(Vaccine.id)))
    if not centers or not vaccines:
        raise click.ClickException("sessions need at least one center and one vaccine")
    latest = db.session.scalar(select(func.max(VaccinationSession.date)))
    first_day = max(latest + timedelta(days=1) if latest else date.min, _today() + timedelta(2))
    now = clock.utcnow()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
        params = {"sessions": sessions, "capacity": capacity, "first_day": first_day, "now": now}
        db.session.execute(INSERT_ON_POSTGRESQL, params)
    else:
        rows = (
            {
                "center_id": centers[i % len(centers)][0],
                "vaccine_id": vaccines[i // len(centers) % len(vaccines)],
                "date": first_day + timedelta(days=i // (len(centers) * len(vaccines))),
                "city_key": centers[i % len(centers)][1],
                "capacity": capacity,
                "booked": 0,
                "status": "open",
                "created_at": now,
            }
            for i in range(sessions)
        )
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                db.session.execute(insert(VaccinationSession), batch)
                batch = []
        if batch:
            db.session.execute(insert(VaccinationSession), batch)
    db.session.commit()
    settle()
    click.echo(f"seeded {sessions} sessions from {first_day.isoformat()}")


def _today() -> date:
    return clock.utcnow().date()
