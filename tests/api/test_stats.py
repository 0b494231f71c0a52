"""Statistics kept by the dose tallies: doses given and revoked through the API count at once."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from backend.extensions import db
from backend.models import CenterMonthTally, CenterTally, User, Vaccination, VaccineTally
from backend.sessions.calendar import local_today
from backend.stats import tallies
from tests.factories import make_center, make_dose, make_user, vaccine_id


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


# --- Statistics: GET /stats/doses (admin, JSON or CSV) and GET /stats/public (cached).

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)


@pytest.fixture
def known_doses(app):
    """Five approved doses: Dhaka 3 (two centers), Sylhet 2; Pfizer 4, Moderna 1."""
    with app.app_context():
        dhaka_a = make_center(name="Dhaka A", city="Dhaka").id
        dhaka_b = make_center(name="Dhaka B", city="Dhaka").id
        sylhet = make_center(name="Sylhet Osmani", city="Sylhet").id
        ann, bo, cy = make_user(), make_user(), make_user()
        make_dose(ann, given=DAY1, center_id=dhaka_a)
        make_dose(ann, given=DAY2, center_id=dhaka_b)
        make_dose(bo, given=DAY1, center_id=dhaka_a)
        make_dose(cy, given=DAY2, center_id=sylhet, vaccine="Moderna")
        make_dose(make_user(), given=local_today(), center_id=sylhet)
        rejected = Vaccination(
            user_id=make_user().id,
            vaccine_id=vaccine_id("Pfizer"),
            center_id=sylhet,
            dose_number=1,
            status="rejected",
            vaccination_date=DAY1,
        )
        db.session.add(rejected)
        db.session.commit()
        return {"dhaka_a": dhaka_a, "dhaka_b": dhaka_b, "sylhet": sylhet}


@pytest.fixture
def admin(auth):
    return auth.admin()[1]


def counts(client, admin, **query):
    response = client.get("/stats/doses", query_string=query, headers=admin)
    assert response.status_code == 200, response.get_json()
    return {row["group"]: row["doses"] for row in response.get_json()}


def test_doses_by_day_within_the_range(client, admin, known_doses):
    by_day = counts(client, admin, **{"from": "2026-03-01", "to": "2026-03-02"})
    assert by_day == {"2026-03-01": 2, "2026-03-02": 2}
    assert counts(client, admin, **{"from": "2026-03-02", "to": "2026-03-02"}) == {"2026-03-02": 2}


def test_doses_by_center_city_vaccine_and_dose_number(client, admin, known_doses):
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    by_center = counts(client, admin, group_by="center", **march)
    assert by_center == {
        known_doses["dhaka_a"]: 2,
        known_doses["dhaka_b"]: 1,
        known_doses["sylhet"]: 1,
    }
    assert counts(client, admin, group_by="city", **march) == {"dhaka": 3, "sylhet": 1}
    response = client.get("/stats/doses", query_string={"group_by": "vaccine"}, headers=admin)
    assert {row["label"]: row["doses"] for row in response.get_json()} == {
        "Pfizer": 4,
        "Moderna": 1,
    }
    assert counts(client, admin, group_by="dose_number", **march) == {1: 3, 2: 1}


def test_doses_as_csv(client, admin, known_doses):
    response = client.get(
        "/stats/doses?group_by=city&from=2026-03-01&to=2026-03-31",
        headers={**admin, "Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [["city", "label", "doses"], ["dhaka", "Dhaka", "3"], ["sylhet", "Sylhet", "1"]]


def test_bad_queries_are_422(client, admin):
    assert client.get("/stats/doses?group_by=planet", headers=admin).status_code == 422
    bad = client.get("/stats/doses?from=2026-03-02&to=2026-03-01", headers=admin)
    assert bad.status_code == 422


@pytest.mark.parametrize("role", ["citizen", "vaccinator"])
def test_dose_stats_are_for_admins(app, client, auth, role):
    if role == "citizen":
        headers = auth.citizen()[1]
    else:
        with app.app_context():
            headers = auth.vaccinator(make_center().id)[1]
    assert client.get("/stats/doses", headers=headers).status_code == 403
    assert client.get("/stats/doses").status_code == 401


def test_public_counts_today_and_in_total(client, known_doses):
    response = client.get("/stats/public")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"]["doses"] == 5
    assert body["total"]["by_vaccine"] == [
        {"vaccine": "Moderna", "doses": 1},
        {"vaccine": "Pfizer", "doses": 4},
    ]
    assert body["today"] == {"doses": 1, "by_vaccine": [{"vaccine": "Pfizer", "doses": 1}]}


def test_public_counts_are_cacheable(client, known_doses):
    first = client.get("/stats/public")
    assert first.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    etag = first.headers["ETag"]
    again = client.get("/stats/public", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag


def test_public_counts_are_kept_for_a_minute(app, client, known_doses):
    before = client.get("/stats/public").get_json()["total"]["doses"]
    with app.app_context():
        make_dose(
            db.session.get(User, 1) or make_user(), given=DAY1, center_id=known_doses["sylhet"]
        )
    assert client.get("/stats/public").get_json()["total"]["doses"] == before
