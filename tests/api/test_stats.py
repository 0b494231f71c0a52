"""Statistics kept by the dose tallies: doses given and revoked through the API count at once."""

from __future__ import annotations

from datetime import date

import pytest

from backend.extensions import db
from backend.models import CenterMonthTally, CenterTally, Vaccination, VaccineTally
from backend.sessions.calendar import local_today
from backend.stats import tallies
from tests.factories import make_center, make_dose, make_user


@pytest.fixture(autouse=True)
def fresh_public_cache(app):
    app.extensions.pop("public_stats", None)
    yield
    app.extensions.pop("public_stats", None)


def by_center(client, headers) -> dict:
    response = client.get("/stats/doses?group_by=center", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {row["group"]: row["doses"] for row in response.get_json()}


def test_an_approved_dose_counts_at_once(app, client, registry):
    center = registry.center(name="Khulna Sadar", city="Khulna")
    registry.approved(center_id=center)
    registry.approved(center_id=center)
    assert by_center(client, registry.officer) == {center: 2}
    with app.app_context():
        today = local_today().isoformat()
    by_day = client.get("/stats/doses?group_by=day", headers=registry.officer).get_json()
    assert by_day == [{"group": today, "label": today, "doses": 2}]


def test_a_revoked_dose_stops_counting(client, registry):
    center = registry.center(name="Rajshahi Central", city="Rajshahi")
    kept, _ = registry.approved(center_id=center)
    revoked, _ = registry.approved(center_id=center)
    response = registry.review(revoked, "revoke", reason="Entered for the wrong person")
    assert response.status_code == 200, response.get_json()
    assert by_center(client, registry.officer) == {center: 1}
    assert client.get("/stats/public").get_json()["total"]["doses"] == 1


def test_a_center_with_every_dose_revoked_is_not_listed(client, registry):
    center = registry.center(name="Barishal Sadar", city="Barishal")
    revoked, _ = registry.approved(center_id=center)
    registry.review(revoked, "revoke", reason="Entered in error")
    assert by_center(client, registry.officer) == {}


def test_rebuilt_tallies_match_what_the_service_kept(app, client, registry):
    for _ in range(3):
        registry.approved()
    revoked, _ = registry.approved()
    registry.review(revoked, "revoke", reason="Entered in error")
    with app.app_context():
        kept = [
            sorted(tuple(row) for row in db.session.execute(db.select(*model.__table__.c)))
            for model in (CenterTally, CenterMonthTally, VaccineTally)
        ]
        tallies.rebuild()
        rebuilt = [
            sorted(tuple(row) for row in db.session.execute(db.select(*model.__table__.c)))
            for model in (CenterTally, CenterMonthTally, VaccineTally)
        ]
        assert db.session.query(Vaccination).count() == 4
    assert kept == rebuilt and kept[0][0][-1] == 3


GIVEN = ("2026-02-27", "2026-03-01", "2026-03-15", "2026-03-31", "2026-04-02")


@pytest.mark.parametrize(
    "span, doses",
    [
        ({}, 5),
        ({"from": "2026-02-28", "to": "2026-04-01"}, 3),  # part of Feb, all March, part of April
        ({"from": "2026-02-27"}, 5),
        ({"to": "2026-03-15"}, 3),
        ({"from": "2026-03-02", "to": "2026-03-31"}, 2),  # within one month
        ({"from": "2026-03-01", "to": "2026-03-31"}, 3),  # exactly one month
        ({"from": "2026-04-03"}, 0),
    ],
)
def test_center_and_city_counts_over_any_span(app, client, registry, span, doses):
    with app.app_context():
        center = make_center(name="Comilla Medical", city="Comilla").id
        for day in GIVEN:
            make_dose(make_user(), given=date.fromisoformat(day), center_id=center)
    query = {"group_by": "center", **span}
    rows = client.get("/stats/doses", query_string=query, headers=registry.officer).get_json()
    assert {row["group"]: row["doses"] for row in rows} == ({center: doses} if doses else {})
    query["group_by"] = "city"
    rows = client.get("/stats/doses", query_string=query, headers=registry.officer).get_json()
    assert [row["doses"] for row in rows] == ([doses] if doses else [])
