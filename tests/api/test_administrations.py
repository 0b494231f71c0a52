"""Nobody records a dose to themselves, found by NID: the rule walk-ins used to slip through."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.models import User
from backend.privacy.fields import index_of
from backend.sessions.calendar import local_today
from tests.factories import make_center

OWN_NID = "19905550123"


@pytest.fixture
def center(app):
    with app.app_context():
        return make_center(name="Shaheed Suhrawardy Hospital").id


@pytest.fixture
def vaccinator(auth, center):
    """A vaccinator whose staff account carries OWN_NID (as POST /staff records it)."""
    return auth.vaccinator(center, staff_nid=OWN_NID)[1]


def walk_in(client, headers, registry, **body):
    values = {"nid": OWN_NID, "name": "Rina Akter", "date_of_birth": "1990-02-01", "batch": "L1"}
    values["vaccine_id"] = registry.vaccine()
    return client.post("/administrations", json={**values, **body}, headers=headers)


def people_with(app, nid: str) -> int:
    with app.app_context():
        return db.session.query(User).filter_by(nid_index=index_of("nid", nid)).count()


def test_a_walk_in_with_the_vaccinators_own_nid_is_refused(app, client, vaccinator, registry):
    response = walk_in(client, vaccinator, registry)
    assert response.status_code == 403, response.get_json()
    assert people_with(app, OWN_NID) == 0  # no person record filed for it either


def test_a_walk_in_for_the_vaccinators_citizen_account_is_refused(
    app, client, auth, vaccinator, registry
):
    auth.citizen(nid=OWN_NID, name="Rina Akter")  # their personal account, a separate login
    response = walk_in(client, vaccinator, registry)
    assert response.status_code == 403, response.get_json()


def test_a_walk_in_for_a_member_with_the_vaccinators_nid_is_refused(
    client, booking, vaccinator, registry
):
    _, holder = booking.citizen()
    member = {"name": "Rina", "nid": OWN_NID, "date_of_birth": "1990-02-01", "relation": "sibling"}
    assert client.post("/users/me/members", json=member, headers=holder).status_code == 201
    assert walk_in(client, vaccinator, registry).status_code == 403


def test_the_vaccinators_own_appointment_is_refused(
    app, client, booking, center, vaccinator, monkeypatch
):
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)  # book and give today
    with app.app_context():
        today = local_today()
    _, own_account = booking.citizen(nid=OWN_NID)
    appointment, _ = booking.booked(own_account, center_id=center, date=today)
    body = {"code": appointment["code"], "batch": "FK1"}
    url = f"/appointments/{appointment['id']}/administer"
    assert client.post(url, json=body, headers=vaccinator).status_code == 403


def test_someone_elses_walk_in_is_recorded(client, vaccinator, registry):
    response = walk_in(client, vaccinator, registry, nid="19905550999", name="Someone Else")
    assert response.status_code == 201, response.get_json()


def test_a_vaccinator_without_an_nid_on_file_records_no_walk_in(app, client, auth, registry):
    with app.app_context():
        center = make_center().id
    _, no_nid = auth.vaccinator(center, staff_nid=None)
    response = walk_in(client, no_nid, registry, nid="19905550999", name="Someone Else")
    assert response.status_code == 403
    assert "national ID" in response.get_json()["message"]
