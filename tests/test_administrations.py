"""Doses given by vaccinators: POST /appointments/<id>/administer and POST /administrations."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent, Vaccination
from backend.sessions.calendar import local_today
from tests.factories import make_center


@pytest.fixture
def day(app, monkeypatch):
    """Today at the centers; booking stays open until the session (BOOKING_CUTOFF=off)."""
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)
    with app.app_context():
        return local_today()


@pytest.fixture
def center(app):
    with app.app_context():
        return make_center(name="Mugda General Hospital").id


@pytest.fixture
def vaccinator(auth, center):
    return auth.vaccinator(center, name="Rina Akter")[1]


@pytest.fixture
def appointment(booking, center, day):
    """A booked appointment today at the vaccinator's center."""
    return booking.booked(center_id=center, date=day)[0]


def administer(client, appointment, headers, **body):
    body = {"code": appointment["code"], "batch": "FK1234", **body}
    return client.post(f"/appointments/{appointment['id']}/administer", json=body, headers=headers)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def test_the_dose_is_recorded_with_its_certificate(client, appointment, vaccinator):
    response = administer(client, appointment, vaccinator)
    assert response.status_code == 200, response.get_json()
    dose = response.get_json()
    assert dose["batch"] == "FK1234" and dose["dose_number"] == 1
    assert dose["vaccine"] == "Pfizer" and dose["certificate_id"]
    assert dose["administered_by_id"] and dose["administered_at"]


def test_the_owner_sees_the_dose_approved(client, booking, center, day, vaccinator):
    appointment, owner = booking.booked(center_id=center, date=day)
    assert administer(client, appointment, vaccinator).status_code == 200
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
    client, booking, center, day, vaccinator
):
    appointment, owner = booking.booked(center_id=center, date=day)
    assert administer(client, appointment, vaccinator).status_code == 200
    [dose] = client.get("/vaccinations/me", headers=owner).get_json()
    with client.get(f"/vaccinations/{dose['id']}/certificate", headers=owner) as response:
        assert response.mimetype == "application/pdf"
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "FK1234" in text


def test_a_wrong_code_is_refused_and_counted(client, appointment, vaccinator):
    response = administer(client, appointment, vaccinator, code=wrong(appointment["code"]))
    assert response.status_code == 422
    assert "4 attempts left" in response.get_json()["message"]
    assert administer(client, appointment, vaccinator).status_code == 200


def test_five_wrong_codes_lock_the_appointment(client, appointment, vaccinator, registry):
    for _ in range(4):
        bad = administer(client, appointment, vaccinator, code=wrong(appointment["code"]))
        assert bad.status_code == 422
    fifth = administer(client, appointment, vaccinator, code=wrong(appointment["code"]))
    assert fifth.status_code == 409 and fifth.get_json()["reason"] == "locked"
    right = administer(client, appointment, vaccinator)
    assert right.status_code == 409 and right.get_json()["reason"] == "locked"
    officer = registry.review(appointment["vaccination_id"], "approve")
    assert officer.status_code == 200, officer.get_json()


def test_concurrent_guesses_cannot_exceed_five(app, client, appointment, vaccinator):
    bad = wrong(appointment["code"])

    def guess(_):
        return administer(app.test_client(), appointment, vaccinator, code=bad).status_code

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


def test_only_on_the_sessions_day(client, booking, center, day, vaccinator):
    appointment = booking.booked(center_id=center, date=day + timedelta(days=1))[0]
    response = administer(client, appointment, vaccinator)
    assert response.status_code == 422
    assert "on that day" in response.get_json()["message"]


def test_administered_at_must_be_on_the_day_and_not_ahead(client, appointment, vaccinator, day):
    later = administer(client, appointment, vaccinator, administered_at="2999-01-01T09:00:00Z")
    assert later.status_code == 422
    earlier = (day - timedelta(days=2)).isoformat() + "T09:00:00+06:00"
    assert administer(client, appointment, vaccinator, administered_at=earlier).status_code == 422


def test_a_dose_is_given_once(client, appointment, vaccinator):
    assert administer(client, appointment, vaccinator).status_code == 200
    again = administer(client, appointment, vaccinator)
    assert again.status_code == 409 and again.get_json()["reason"] == "not_live"


def test_a_cancelled_appointment_has_no_dose(client, booking, center, day, vaccinator):
    appointment, owner = booking.booked(center_id=center, date=day)
    client.delete(f"/appointments/{appointment['id']}", headers=owner)
    assert administer(client, appointment, vaccinator).status_code == 409


def test_nobody_administers_to_themselves(app, client, auth, booking, center, day):
    own_nid = "19901234567"
    _, vaccinator = auth.vaccinator(center, nid=own_nid)
    _, holder = booking.citizen()
    member = {"name": "Same Person", "nid": own_nid, "date_of_birth": "1990-01-01"}
    with app.app_context():  # the registry refuses it over HTTP; a data-entry slip allows it
        from backend.models import Member, User

        holder_id = db.session.scalars(select(User.id).order_by(User.id.desc())).first()
        db.session.add(Member(user_id=holder_id, relation="sibling", **_dob(member)))
        db.session.commit()
        member_id = db.session.scalars(select(Member.id)).one()
    session_id = booking.session(center_id=center, date=day)
    booked = booking.book(holder, session_id, member_id=member_id)
    assert booked.status_code == 201, booked.get_json()
    response = administer(client, booked.get_json(), vaccinator)
    assert response.status_code == 403


def _dob(member: dict) -> dict:
    return {**member, "date_of_birth": date.fromisoformat(member["date_of_birth"])}


def test_both_paths_are_audited_without_codes(app, client, appointment, vaccinator):
    administer(client, appointment, vaccinator, code=wrong(appointment["code"]))
    administer(client, appointment, vaccinator)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        names = [event.event for event in events]
        assert "vaccination.administered" in names and "certificate.issued" in names
        assert appointment["code"] not in str([event.details for event in events])
        dose = db.session.get(Vaccination, appointment["vaccination_id"])
        assert dose.batch == "FK1234" and dose.administered_by_id is not None
