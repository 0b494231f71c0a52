"""Routes of backend/appointments/routes.py: booking, changing and cancelling appointments."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.extensions import db
from backend.models import SessionStatus, VaccinationSession, Vaccine
from tests.booking import week_ahead
from tests.factories import make_dose, vaccine_id
from tests.outbox import body_of

# --- POST /appointments: who may book which session, and the answers when they may not.


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


# --- PATCH/DELETE /appointments, the cut-off, boosters, officers' lists and cancelled sessions.

pytestmark = pytest.mark.usefixtures("long_lived_tokens")  # the clock moves by days


def stop_clock(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr("backend.clock.utcnow", lambda: moment.astimezone(UTC))


def test_cancelling_gives_the_place_back_at_once_and_allows_rebooking(client, booking):
    session_id = booking.session(capacity=1)
    _, headers = booking.citizen()
    appointment = booking.book(headers, session_id).get_json()
    _, other = booking.citizen()
    assert booking.book(other, session_id).status_code == 409
    assert client.delete(f"/appointments/{appointment['id']}", headers=headers).status_code == 204
    assert booking.places(session_id) == (0, 1)
    assert booking.book(other, session_id).status_code == 201
    assert booking.book(headers, booking.session()).status_code == 201
    statuses = [a["status"] for a in client.get("/appointments/me", headers=headers).get_json()]
    assert statuses == ["booked", "cancelled"]


def test_someone_elses_appointment_is_404(client, booking):
    appointment, _ = booking.booked()
    _, stranger = booking.citizen()
    url = f"/appointments/{appointment['id']}"
    assert client.delete(url, headers=stranger).status_code == 404


def test_cancelling_the_registration_cancels_the_appointment(client, booking):
    appointment, headers = booking.booked()
    url = f"/vaccinations/{appointment['vaccination_id']}"
    assert client.delete(url, headers=headers).status_code == 204
    assert booking.places(appointment["session_id"])[0] == 0


def test_reschedule_moves_the_place(client, booking):
    appointment, headers = booking.booked()
    target = booking.session(date=week_ahead(2))
    url = f"/appointments/{appointment['id']}"
    response = client.patch(url, json={"session_id": target}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["session_id"] == target and response.get_json()["reschedules"] == 1
    assert booking.places(appointment["session_id"])[0] == 0 and booking.places(target)[0] == 1


def test_at_most_three_reschedules(client, booking):
    appointment, headers = booking.booked()
    url = f"/appointments/{appointment['id']}"
    for n in range(3):
        target = booking.session(date=week_ahead(n + 1))
        assert client.patch(url, json={"session_id": target}, headers=headers).status_code == 200
    response = client.patch(url, json={"session_id": booking.session()}, headers=headers)
    assert response.status_code == 422 and "3" in response.get_json()["message"]


def test_rescheduling_into_a_full_session_keeps_the_old_place(client, booking):
    appointment, headers = booking.booked()
    full = booking.session(capacity=2, booked=2)
    url = f"/appointments/{appointment['id']}"
    response = client.patch(url, json={"session_id": full}, headers=headers)
    assert response.status_code == 409 and response.get_json()["reason"] == "full"
    assert booking.places(appointment["session_id"])[0] == 1 and booking.places(full)[0] == 2


@pytest.mark.parametrize("hour, minute, status", [(14, 59, 201), (15, 0, 422)])
def test_booking_closes_at_the_cutoff_the_day_before_in_dhaka(
    app, booking, monkeypatch, hour, minute, status
):
    day = week_ahead()
    session_id = booking.session(date=day)
    _, headers = booking.citizen()
    dhaka = ZoneInfo(app.config["TIMEZONE"])
    before = datetime.combine(day - timedelta(1), datetime.min.time(), dhaka)
    stop_clock(monkeypatch, before.replace(hour=hour, minute=minute))
    assert booking.book(headers, session_id).status_code == status


def test_without_a_cutoff_the_session_day_itself_is_bookable(app, booking, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)
    _, headers = booking.citizen()
    day = date.today() + timedelta(days=1)
    session_id = booking.session(date=day)
    # 07:00 in Dhaka on the session's day.
    stop_clock(monkeypatch, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1))
    assert booking.book(headers, session_id).status_code == 201


def test_booster_follows_the_primary_series(client, auth, context, booking, registry):
    user_id, headers = booking.citizen()
    second = week_ahead() - timedelta(days=100)
    make_dose(booking.user(user_id), given=second - timedelta(days=30))
    make_dose(booking.user(user_id), given=second)
    assert booking.book(headers, booking.session()).status_code == 409  # no booster configured
    _, officer = auth.admin()
    url = f"/vaccines/{registry.vaccine()}"
    client.patch(url, json={"booster_interval_days": 101}, headers=officer)
    early = booking.book(headers, booking.session())
    assert early.status_code == 422
    assert (second + timedelta(101)).isoformat() in early.get_json()["message"]
    on_time = booking.book(headers, booking.session(date=week_ahead(1)))
    assert on_time.status_code == 201 and on_time.get_json()["dose_number"] == 3


def test_only_one_booster(context, booking):
    user_id, headers = booking.citizen()
    db.session.get(Vaccine, vaccine_id()).booster_interval_days = 10
    db.session.commit()
    for days in (300, 270, 200):
        make_dose(booking.user(user_id), given=date.today() - timedelta(days=days))
    assert booking.book(headers, booking.session()).status_code == 409


def test_officers_list_a_sessions_appointments_without_codes(client, auth, booking):
    appointment, headers = booking.booked()
    url = f"/sessions/{appointment['session_id']}/appointments"
    assert client.get(url, headers=headers).status_code == 403
    listed = client.get(url, headers=auth.admin()[1]).get_json()
    assert [a["id"] for a in listed] == [appointment["id"]] and "code" not in listed[0]


def test_approving_the_dose_completes_the_appointment(client, booking, registry):
    appointment, headers = booking.booked()
    response = registry.review(appointment["vaccination_id"], "approve")
    assert response.status_code == 200 and response.get_json()["certificate"]
    assert client.get("/appointments/me", headers=headers).get_json()[0]["status"] == "completed"
    url = f"/appointments/{appointment['id']}"
    assert client.delete(url, headers=headers).status_code == 409


def test_cancelling_a_session_cancels_its_appointments_and_tells_the_people(
    client, auth, booking, mailbox
):
    _, headers = booking.citizen(email="told@example.org")
    session_id = booking.session()
    appointment = booking.book(headers, session_id).get_json()
    response = client.post(f"/sessions/{session_id}/cancel", headers=auth.admin()[1])
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert client.get("/appointments/me", headers=headers).get_json()[0]["status"] == "cancelled"
    registrations = client.get("/vaccinations/me", headers=headers).get_json()
    assert registrations[0]["status"] == "cancelled"
    assert "cancelled" in body_of(mailbox.wait_for("told@example.org")[-1])
    assert booking.book(headers, booking.session()).status_code == 201
    assert booking.places(appointment["session_id"])[0] == 0


def test_cancelling_a_session_keeps_the_doses_already_given(client, auth, booking, registry):
    session_id = booking.session()
    _, first = booking.citizen()
    _, second = booking.citizen()
    done = booking.book(first, session_id).get_json()
    booking.book(second, session_id)
    registry.review(done["vaccination_id"], "approve")
    client.post(f"/sessions/{session_id}/cancel", headers=auth.admin()[1])
    assert client.get("/appointments/me", headers=first).get_json()[0]["status"] == "completed"
    assert client.get("/appointments/me", headers=second).get_json()[0]["status"] == "cancelled"
