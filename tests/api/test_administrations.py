"""Nobody records a dose to themselves, found by NID: the rule walk-ins used to slip through."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent, User, Vaccination
from backend.privacy.fields import index_of
from backend.sessions.calendar import local_today
from tests.factories import make_center, make_dose, registration

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


# --- Doses given by vaccinators: POST /appointments/<id>/administer and POST /administrations.


@pytest.fixture
def day(app, monkeypatch):
    """Today at the centers; booking stays open until the session (BOOKING_CUTOFF=off)."""
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)
    with app.app_context():
        return local_today()


@pytest.fixture
def center_administrations(app):
    with app.app_context():
        return make_center(name="Mugda General Hospital").id


@pytest.fixture
def vaccinator_administrations(auth, center_administrations):
    return auth.vaccinator(center_administrations, name="Rina Akter")[1]


@pytest.fixture
def appointment(booking, center_administrations, day):
    """A booked appointment today at the vaccinator's center."""
    return booking.booked(center_id=center_administrations, date=day)[0]


def administer(client, appointment, headers, **body):
    body = {"code": appointment["code"], "batch": "FK1234", **body}
    return client.post(f"/appointments/{appointment['id']}/administer", json=body, headers=headers)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def test_the_dose_is_recorded_with_its_certificate(client, appointment, vaccinator_administrations):
    response = administer(client, appointment, vaccinator_administrations)
    assert response.status_code == 200, response.get_json()
    dose = response.get_json()
    assert dose["batch"] == "FK1234" and dose["dose_number"] == 1
    assert dose["vaccine"] == "Pfizer" and dose["certificate_id"]
    assert dose["administered_by_id"] and dose["administered_at"]


def test_the_owner_sees_the_dose_approved(
    client, booking, center_administrations, day, vaccinator_administrations
):
    appointment, owner = booking.booked(center_id=center_administrations, date=day)
    assert administer(client, appointment, vaccinator_administrations).status_code == 200
    mine = client.get("/vaccinations/me", headers=owner).get_json()
    assert mine[0]["status"] == "approved"
    appointments = client.get("/appointments/me", headers=owner).get_json()
    assert appointments[0]["status"] == "completed"
    certificate = client.get(
        f"/vaccinations/{mine[0]['id']}/certificate",
        headers={**owner, "Accept": "application/json"},
    )
    assert certificate.status_code == 200


def test_the_certificate_pdf_lists_the_dose_with_its_batch(
    client, booking, center_administrations, day, vaccinator_administrations
):
    appointment, owner = booking.booked(center_id=center_administrations, date=day)
    assert administer(client, appointment, vaccinator_administrations).status_code == 200
    [dose] = client.get("/vaccinations/me", headers=owner).get_json()
    with client.get(f"/vaccinations/{dose['id']}/certificate", headers=owner) as response:
        assert response.mimetype == "application/pdf"
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "FK1234" in text


def test_a_wrong_code_is_refused_and_counted(client, appointment, vaccinator_administrations):
    response = administer(
        client, appointment, vaccinator_administrations, code=wrong(appointment["code"])
    )
    assert response.status_code == 422
    assert "4 attempts left" in response.get_json()["message"]
    assert administer(client, appointment, vaccinator_administrations).status_code == 200


def test_five_wrong_codes_lock_the_appointment(
    client, appointment, vaccinator_administrations, registry
):
    for _ in range(4):
        bad = administer(
            client, appointment, vaccinator_administrations, code=wrong(appointment["code"])
        )
        assert bad.status_code == 422
    fifth = administer(
        client, appointment, vaccinator_administrations, code=wrong(appointment["code"])
    )
    assert fifth.status_code == 409 and fifth.get_json()["reason"] == "locked"
    right = administer(client, appointment, vaccinator_administrations)
    assert right.status_code == 409 and right.get_json()["reason"] == "locked"
    officer = registry.review(appointment["vaccination_id"], "approve")
    assert officer.status_code == 200, officer.get_json()


def test_concurrent_guesses_cannot_exceed_five(
    app, client, appointment, vaccinator_administrations
):
    bad = wrong(appointment["code"])

    def guess(_):
        return administer(
            app.test_client(), appointment, vaccinator_administrations, code=bad
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(guess, range(12)))
    assert statuses.count(422) == 4
    assert statuses.count(409) == 8
    with app.app_context():
        wrong_codes = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "appointment.wrong_code")
        ).all()
        assert len(wrong_codes) == 5


def test_only_a_vaccinator_of_that_center_administers(client, auth, appointment, registry):
    with client.application.app_context():
        elsewhere = make_center().id
    other = auth.vaccinator(elsewhere)[1]
    assert administer(client, appointment, other).status_code == 404
    assert administer(client, appointment, registry.officer).status_code == 403
    assert administer(client, appointment, auth.citizen()[1]).status_code == 403


def test_only_on_the_sessions_day(
    client, booking, center_administrations, day, vaccinator_administrations
):
    appointment = booking.booked(center_id=center_administrations, date=day + timedelta(days=1))[0]
    response = administer(client, appointment, vaccinator_administrations)
    assert response.status_code == 422
    assert "on that day" in response.get_json()["message"]


def test_administered_at_must_be_on_the_day_and_not_ahead(
    client, appointment, vaccinator_administrations, day
):
    later = administer(
        client, appointment, vaccinator_administrations, administered_at="2999-01-01T09:00:00Z"
    )
    assert later.status_code == 422
    earlier = (day - timedelta(days=2)).isoformat() + "T09:00:00+06:00"
    assert (
        administer(
            client, appointment, vaccinator_administrations, administered_at=earlier
        ).status_code
        == 422
    )


def test_a_dose_is_given_once(client, appointment, vaccinator_administrations):
    assert administer(client, appointment, vaccinator_administrations).status_code == 200
    again = administer(client, appointment, vaccinator_administrations)
    assert again.status_code == 409 and again.get_json()["reason"] == "not_live"


def test_a_cancelled_appointment_has_no_dose(
    client, booking, center_administrations, day, vaccinator_administrations
):
    appointment, owner = booking.booked(center_id=center_administrations, date=day)
    client.delete(f"/appointments/{appointment['id']}", headers=owner)
    assert administer(client, appointment, vaccinator_administrations).status_code == 409


def test_nobody_administers_to_themselves(app, client, auth, booking, center_administrations, day):
    own_nid = "19901234567"
    _, vaccinator_administrations = auth.vaccinator(center_administrations, nid=own_nid)
    _, holder = booking.citizen()
    member = {"name": "Same Person", "nid": own_nid, "date_of_birth": "1990-01-01"}
    with app.app_context():  # the registry refuses it over HTTP; a data-entry slip allows it
        from backend.models import Member, User

        holder_id = db.session.scalars(select(User.id).order_by(User.id.desc())).first()
        db.session.add(Member(user_id=holder_id, relation="sibling", **_dob(member)))
        db.session.commit()
        member_id = db.session.scalars(select(Member.id)).one()
    session_id = booking.session(center_id=center_administrations, date=day)
    booked = booking.book(holder, session_id, member_id=member_id)
    assert booked.status_code == 201, booked.get_json()
    response = administer(client, booked.get_json(), vaccinator_administrations)
    assert response.status_code == 403


def _dob(member: dict) -> dict:
    return {**member, "date_of_birth": date.fromisoformat(member["date_of_birth"])}


def test_both_paths_are_audited_without_codes(app, client, appointment, vaccinator_administrations):
    administer(client, appointment, vaccinator_administrations, code=wrong(appointment["code"]))
    administer(client, appointment, vaccinator_administrations)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        names = [event.event for event in events]
        assert "vaccination.administered" in names and "certificate.issued" in names
        assert appointment["code"] not in str([event.details for event in events])
        dose = db.session.get(Vaccination, appointment["vaccination_id"])
        assert dose.batch == "FK1234" and dose.administered_by_id is not None


# --- Walk-ins: POST /administrations records a dose at the vaccinator's center, found by NID.

NID = "19875551234"


@pytest.fixture
def center_walk_ins(app):
    with app.app_context():
        return make_center(name="Kurmitola General Hospital").id


@pytest.fixture
def vaccinator_walk_ins(auth, center_walk_ins):
    return auth.vaccinator(center_walk_ins)[1]


def walk_in_walk_ins(client, headers, registry, **body):
    values = {"nid": NID, "name": "Abdul Karim", "date_of_birth": "1975-03-02", "batch": "LOT9"}
    values["vaccine_id"] = registry.vaccine()
    return client.post("/administrations", json={**values, **body}, headers=headers)


def test_a_stranger_gets_a_person_record_and_a_certificate(
    client, vaccinator_walk_ins, registry, center_walk_ins
):
    response = walk_in_walk_ins(client, vaccinator_walk_ins, registry)
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()
    assert dose["person"] == "Abdul Karim" and dose["dose_number"] == 1
    assert (
        dose["center_id"] == center_walk_ins and dose["certificate_id"] and dose["batch"] == "LOT9"
    )


def test_the_account_registering_that_nid_takes_the_record_over(
    client, vaccinator_walk_ins, registry, auth
):
    first = walk_in_walk_ins(client, vaccinator_walk_ins, registry).get_json()
    body = registration(nid=NID, email="karim@example.org")
    response = client.post("/auth/register", json=body)
    assert response.status_code == 201, response.get_json()
    headers = auth.headers("karim@example.org")
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert [dose["id"] for dose in mine] == [first["vaccination_id"]]
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1975-03-02"


@pytest.mark.usefixtures("long_lived_tokens")  # before `vaccinator` signs in
def test_a_second_walk_in_dose_goes_on_the_same_record(
    client, vaccinator_walk_ins, registry, monkeypatch
):
    first = walk_in_walk_ins(client, vaccinator_walk_ins, registry).get_json()
    early = walk_in_walk_ins(client, vaccinator_walk_ins, registry)
    assert early.status_code == 422 and "from" in early.get_json()["message"]
    later = datetime.now(UTC) + timedelta(days=30)
    monkeypatch.setattr("backend.clock.utcnow", lambda: later)
    second = walk_in_walk_ins(client, vaccinator_walk_ins, registry).get_json()
    assert second["dose_number"] == 2 and second["person"] == first["person"]


def test_the_dose_goes_on_an_existing_account(app, client, vaccinator_walk_ins, registry, auth):
    user_id, headers = auth.citizen(nid=NID)
    response = walk_in_walk_ins(client, vaccinator_walk_ins, registry, name="Whatever They Said")
    assert response.status_code == 201, response.get_json()
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert mine[0]["status"] == "approved"


def test_the_dose_goes_on_a_member(client, vaccinator_walk_ins, registry, booking):
    _, holder = booking.citizen()
    member = {"name": "Amina", "nid": NID, "date_of_birth": "1960-01-01", "relation": "parent"}
    member_id = client.post("/users/me/members", json=member, headers=holder).get_json()["id"]
    response = walk_in_walk_ins(client, vaccinator_walk_ins, registry)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["person"] == "Amina"
    mine = client.get("/vaccinations/me", headers=holder).get_json()
    assert mine[0]["member_id"] == member_id


def test_the_vaccine_must_follow_earlier_doses(app, client, vaccinator_walk_ins, registry, auth):
    user_id, _ = auth.citizen(nid=NID)
    with app.app_context():
        make_dose(db.session.get(User, user_id), vaccine="Pfizer", given=date(2026, 1, 1))
    response = walk_in_walk_ins(
        client, vaccinator_walk_ins, registry, vaccine_id=registry.vaccine("Moderna")
    )
    assert response.status_code == 422
    assert "vaccine_id" in response.get_json()["errors"]["json"]


def test_a_live_appointment_is_given_with_its_code(client, vaccinator_walk_ins, registry, booking):
    _, holder = booking.citizen(nid=NID)
    booking.booked(holder)
    assert walk_in_walk_ins(client, vaccinator_walk_ins, registry).status_code == 409


def test_nobody_records_their_own_walk_in(client, auth, center_walk_ins, registry):
    _, vaccinator_walk_ins = auth.vaccinator(center_walk_ins, nid=NID)
    assert walk_in_walk_ins(client, vaccinator_walk_ins, registry).status_code == 403


@pytest.mark.parametrize("role", ["citizen", "admin"])
def test_only_vaccinators_record_walk_ins(client, auth, registry, role):
    _, headers = auth.citizen() if role == "citizen" else auth.admin()
    assert walk_in_walk_ins(client, headers, registry).status_code == 403


def test_walk_in_records_cannot_sign_in(app, client, vaccinator_walk_ins, registry):
    walk_in_walk_ins(client, vaccinator_walk_ins, registry)
    with app.app_context():
        person = db.session.scalars(db.select(User).filter_by(nid_index=index_of("nid", NID))).one()
        email = person.email
    response = client.post("/auth/token", data={"username": email, "password": "!walk-in"})
    assert response.status_code == 400  # as for any wrong password
