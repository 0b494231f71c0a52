"""The dose tallies stay exact under concurrent approvals, and migration 0016 fills them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select

from backend.extensions import db
from backend.models import CenterMonthTally, CenterTally, Vaccination, VaccineTally
from tests.factories import make_dose, make_user

APPROVERS = 8


def tallied(model) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(model.doses), 0)))


def test_concurrent_approvals_at_one_center_are_all_counted(app, registry, auth, postgres_url):
    center = registry.center(name="Dhaka Shishu Hospital", city="Dhaka")
    pending = [registry.pending(center_id=center)[0] for _ in range(APPROVERS)]
    officers = [auth.admin()[1] for _ in range(2)]
    start = Barrier(APPROVERS)

    def approve(n: int) -> int:
        client = app.test_client()
        start.wait()
        url = f"/vaccinations/{pending[n]}/approve"
        return client.post(url, json={}, headers=officers[n % 2]).status_code

    with ThreadPoolExecutor(APPROVERS) as pool:
        assert list(pool.map(approve, range(APPROVERS))) == [200] * APPROVERS
    with app.app_context():
        assert tallied(CenterTally) == tallied(VaccineTally) == APPROVERS
        assert db.session.scalar(select(CenterTally.doses)) == APPROVERS  # one row, all counted


def test_0016_counts_the_doses_already_given_and_downgrades_cleanly(app):
    with app.app_context():
        for given in (date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 6)):
            make_dose(make_user(), given=given)
        downgrade(revision="0015_email_change")
        tables = set(inspect(db.engine).get_table_names())
        assert not tables & {"dose_tallies_by_center", "dose_tallies_by_vaccine"}
        assert "staff_nid" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
        upgrade()
        by_day = db.session.execute(
            select(VaccineTally.day, func.sum(VaccineTally.doses)).group_by(VaccineTally.day)
        ).all()
        assert sorted(by_day) == [(date(2026, 1, 5), 2), (date(2026, 1, 6), 1)]
        assert tallied(CenterTally) == db.session.query(Vaccination).count() == 3
        months = select(CenterMonthTally.month, func.sum(CenterMonthTally.doses))
        assert db.session.execute(months.group_by(CenterMonthTally.month)).all() == [
            (date(2026, 1, 1), 3)
        ]
