"""Statistics kept by the dose tallies: doses given and revoked through the API count at once."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.models import CenterTally, Vaccination, VaccineTally
from backend.sessions.calendar import local_today
from backend.stats import tallies


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
            for model in (CenterTally, VaccineTally)
        ]
        tallies.rebuild()
        rebuilt = [
            sorted(tuple(row) for row in db.session.execute(db.select(*model.__table__.c)))
            for model in (CenterTally, VaccineTally)
        ]
        assert db.session.query(Vaccination).count() == 4
    assert kept == rebuilt and kept[0][0][-1] == 3
