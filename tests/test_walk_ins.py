"""Walk-ins: POST /administrations records a dose at the vaccinator's center, found by NID."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backend.extensions import db
from backend.models import User
from backend.privacy.fields import index_of
from tests.factories import make_center, make_dose, registration

NID = "19875551234"


@pytest.fixture
def center(app):
    with app.app_context():
        return make_center(name="Kurmitola General Hospital").id


@pytest.fixture
def vaccinator(auth, center):
    return auth.vaccinator(center)[1]


def walk_in(client, headers, registry, **body):
    values = {"nid": NID, "name": "Abdul Karim", "date_of_birth": "1975-03-02", "batch": "LOT9"}
    values["vaccine_id"] = registry.vaccine()
    return client.post("/administrations", json={**values, **body}, headers=headers)


def test_a_stranger_gets_a_person_record_and_a_certificate(client, vaccinator, registry, center):
    response = walk_in(client, vaccinator, registry)
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()
    assert dose["person"] == "Abdul Karim" and dose["dose_number"] == 1
    assert dose["center_id"] == center and dose["certificate_id"] and dose["batch"] == "LOT9"


def test_the_account_registering_that_nid_takes_the_record_over(client, vaccinator, registry, auth):
    first = walk_in(client, vaccinator, registry).get_json()
    body = registration(nid=NID, email="karim@example.org")
    response = client.post("/auth/register", json=body)
    assert response.status_code == 201, response.get_json()
    headers = auth.headers("karim@example.org")
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert [dose["id"] for dose in mine] == [first["vaccination_id"]]
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1975-03-02"


@pytest.mark.usefixtures("long_lived_tokens")  # before `vaccinator` signs in
def test_a_second_walk_in_dose_goes_on_the_same_record(client, vaccinator, registry, monkeypatch):
    first = walk_in(client, vaccinator, registry).get_json()
    early = walk_in(client, vaccinator, registry)
    assert early.status_code == 422 and "from" in early.get_json()["message"]
    later = datetime.now(UTC) + timedelta(days=30)
    monkeypatch.setattr("backend.clock.utcnow", lambda: later)
    second = walk_in(client, vaccinator, registry).get_json()
    assert second["dose_number"] == 2 and second["person"] == first["person"]


def test_the_dose_goes_on_an_existing_account(app, client, vaccinator, registry, auth):
    user_id, headers = auth.citizen(nid=NID)
    response = walk_in(client, vaccinator, registry, name="Whatever They Said")
    assert response.status_code == 201, response.get_json()
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert mine[0]["status"] == "approved"


def test_the_dose_goes_on_a_member(client, vaccinator, registry, booking):
    _, holder = booking.citizen()
    member = {"name": "Amina", "nid": NID, "date_of_birth": "1960-01-01", "relation": "parent"}
    member_id = client.post("/users/me/members", json=member, headers=holder).get_json()["id"]
    response = walk_in(client, vaccinator, registry)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["person"] == "Amina"
    mine = client.get("/vaccinations/me", headers=holder).get_json()
    assert mine[0]["member_id"] == member_id


def test_the_vaccine_must_follow_earlier_doses(app, client, vaccinator, registry, auth):
    user_id, _ = auth.citizen(nid=NID)
    with app.app_context():
        make_dose(db.session.get(User, user_id), vaccine="Pfizer", given=date(2026, 1, 1))
    response = walk_in(client, vaccinator, registry, vaccine_id=registry.vaccine("Moderna"))
    assert response.status_code == 422
    assert "vaccine_id" in response.get_json()["errors"]["json"]


def test_a_live_appointment_is_given_with_its_code(client, vaccinator, registry, booking):
    _, holder = booking.citizen(nid=NID)
    booking.booked(holder)
    assert walk_in(client, vaccinator, registry).status_code == 409


def test_nobody_records_their_own_walk_in(client, auth, center, registry):
    _, vaccinator = auth.vaccinator(center, nid=NID)
    assert walk_in(client, vaccinator, registry).status_code == 403


@pytest.mark.parametrize("role", ["citizen", "admin"])
def test_only_vaccinators_record_walk_ins(client, auth, registry, role):
    _, headers = auth.citizen() if role == "citizen" else auth.admin()
    assert walk_in(client, headers, registry).status_code == 403


def test_walk_in_records_cannot_sign_in(app, client, vaccinator, registry):
    walk_in(client, vaccinator, registry)
    with app.app_context():
        person = db.session.scalars(db.select(User).filter_by(nid_index=index_of("nid", NID))).one()
        email = person.email
    response = client.post("/auth/token", data={"username": email, "password": "!walk-in"})
    assert response.status_code == 400  # as for any wrong password
