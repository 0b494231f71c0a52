"""POST /appointments: who may book which session, and the answers when they may not."""

from datetime import date, timedelta

import pytest

from backend.extensions import db
from backend.models import SessionStatus, VaccinationSession
from tests.booking import week_ahead
from tests.factories import make_dose


def test_booking_answers_the_appointment_with_a_four_digit_code(client, booking):
    user_id, headers = booking.citizen(name="Rahim")
    session_id = booking.session(capacity=10)
    response = booking.book(headers, session_id)
    assert response.status_code == 201
    body = response.get_json()
    assert body["session_id"] == session_id and body["status"] == "booked"
    assert body["person"] == {"member_id": None, "name": "Rahim"} and body["dose_number"] == 1
    assert len(body["code"]) == 4 and body["code"].isdigit()
    assert booking.places(session_id) == (1, 10)
    assert client.get(f"/sessions/{session_id}").get_json()["available"] == 9


def test_a_booking_is_the_registration_for_the_dose(client, booking):
    appointment, headers = booking.booked()
    registrations = client.get("/vaccinations/me", headers=headers).get_json()
    assert [r["id"] for r in registrations] == [appointment["vaccination_id"]]
    assert registrations[0]["status"] == "pending"
    assert registrations[0]["preferred_date"] == appointment["session"]["date"]


def test_booking_needs_a_date_of_birth(booking):
    _, headers = booking.citizen(born=None)
    response = booking.book(headers, booking.session())
    assert response.status_code == 422
    assert "date_of_birth" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("days_after_eighteenth_birthday, status", [(0, 201), (-1, 422)])
def test_the_eighteenth_birthday_on_the_session_day_counts(
    booking, days_after_eighteenth_birthday, status
):
    day = week_ahead()
    born = day.replace(year=day.year - 18) - timedelta(days=days_after_eighteenth_birthday)
    _, headers = booking.citizen(born=born)
    assert booking.book(headers, booking.session(date=day)).status_code == status


def test_the_oldest_eligible_age_and_a_session_minimum(client, auth, booking, registry):
    _, officer = auth.admin()
    vaccine = registry.vaccine("Moderna")
    client.patch(f"/vaccines/{vaccine}", json={"min_age": 12, "max_age": 17}, headers=officer)
    day = week_ahead()
    _, adult = booking.citizen(born=day.replace(year=day.year - 18))
    _, teen = booking.citizen(born=day.replace(year=day.year - 17))
    assert booking.book(adult, booking.session(vaccine="Moderna")).status_code == 422
    assert booking.book(teen, booking.session(vaccine="Moderna")).status_code == 201
    _, forty = booking.citizen(born=day.replace(year=day.year - 40))
    response = booking.book(forty, booking.session(min_age=45))
    assert response.status_code == 422 and "45" in response.get_json()["message"]


def test_one_live_appointment_per_person(booking, registry):
    _, headers = booking.booked()
    response = booking.book(headers, booking.session())
    assert response.status_code == 409
    _, walk_in = booking.citizen()
    registry.pending(walk_in)
    assert booking.book(walk_in, booking.session()).status_code == 409


def test_a_full_session_is_409_with_reason_full(booking):
    session_id = booking.session(capacity=3, booked=3)
    _, headers = booking.citizen()
    response = booking.book(headers, session_id)
    assert response.status_code == 409
    assert response.get_json()["reason"] == "full" and response.get_json()["message"]
    assert booking.places(session_id) == (3, 3)


def test_a_cancelled_past_or_unknown_session_is_422(app, booking):
    _, headers = booking.citizen()
    cancelled = booking.session()
    with app.app_context():
        db.session.get(VaccinationSession, cancelled).status = SessionStatus.CANCELLED
        db.session.commit()
    past = booking.session(date=date.today() - timedelta(days=2))
    for session_id in (cancelled, past, 999999):
        response = booking.book(headers, session_id)
        assert response.status_code == 422, session_id
        assert "session_id" in response.get_json()["errors"]["json"]


def test_the_next_dose_waits_for_the_interval_counted_to_the_session_day(context, booking):
    user_id, headers = booking.citizen()
    first = week_ahead() - timedelta(days=20)

    make_dose(booking.user(user_id), given=first)
    early = booking.book(headers, booking.session(date=week_ahead()))
    assert early.status_code == 422
    assert (first + timedelta(21)).isoformat() in early.get_json()["message"]
    on_time = booking.book(headers, booking.session(date=week_ahead(1)))
    assert on_time.status_code == 201 and on_time.get_json()["dose_number"] == 2


def test_a_different_vaccine_than_the_earlier_doses_is_422(context, booking):
    user_id, headers = booking.citizen()

    make_dose(booking.user(user_id), given=date.today() - timedelta(days=100))
    assert booking.book(headers, booking.session(vaccine="Moderna")).status_code == 422


def test_an_unverified_account_cannot_book_when_verification_is_required(app, booking, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_VERIFIED", True)
    _, headers = booking.citizen()
    assert booking.book(headers, booking.session()).status_code == 403


def test_the_database_refuses_a_racing_second_booking_for_one_person(booking, monkeypatch):
    _, headers = booking.booked()
    monkeypatch.setattr("backend.appointments.services.has_pending", lambda *person: False)
    session_id = booking.session()
    response = booking.book(headers, session_id)
    assert response.status_code == 409
    assert booking.places(session_id)[0] == 0  # the place taken in the failed request went back
