"""Test helpers for appointments: citizens with a date of birth, sessions, bookings over HTTP."""

from __future__ import annotations

from datetime import date, timedelta

from backend.extensions import db
from backend.models import User, VaccinationSession
from tests.factories import make_center, make_session

ADULT = date(1990, 5, 17)


def week_ahead(days: int = 0) -> date:
    return date.today() + timedelta(days=7 + days)


class Booking:
    """Drives POST/PATCH/DELETE /appointments as citizens would."""

    def __init__(self, app, client, auth):
        self.app, self.client, self.auth = app, client, auth

    def citizen(self, born: date | None = ADULT, **fields) -> tuple[int, dict]:
        return self.auth.citizen(date_of_birth=born, **fields)

    def session(self, **fields) -> int:
        """An open session (a week ahead, 10 places, Pfizer at a new Dhaka center unless told)."""
        with self.app.app_context():
            fields.setdefault("center_id", make_center().id)
            fields.setdefault("date", week_ahead())
            return make_session(**fields).id

    def book(self, headers: dict, session_id: int, **body):
        return self.client.post(
            "/appointments", json={"session_id": session_id, **body}, headers=headers
        )

    def booked(self, headers: dict | None = None, **session) -> tuple[dict, dict]:
        """A booked appointment (of a new adult citizen unless `headers`) and its headers."""
        headers = headers or self.citizen()[1]
        response = self.book(headers, self.session(**session))
        assert response.status_code == 201, response.get_json()
        return response.get_json(), headers

    def places(self, session_id: int) -> tuple[int, int]:
        """(booked, capacity) as the database holds them."""
        with self.app.app_context():
            session = db.session.get(VaccinationSession, session_id)
            return session.booked, session.capacity

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)
