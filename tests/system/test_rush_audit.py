"""The rush's database audit of doses: every 200 administer has one dose and one certificate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backend.extensions import db
from backend.models import Appointment
from backend.sessions.calendar import local_today
from scripts.stack_files import write_env_file
from tests.factories import make_center

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from rush_report import audit  # noqa: E402
from rush_tally import Tally  # noqa: E402


def never(_t) -> bool:
    return False


@pytest.fixture
def given(app, client, auth, booking, postgres_url, monkeypatch):
    """Today's booked appointment, its dose given by the center's vaccinator (a 200), and a
    tally that saw its 201: (center id, vaccination id, tally)."""
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)  # book and give today
    with app.app_context():
        center, today = make_center(name="Rush center").id, local_today()
    appointment, _ = booking.booked(center_id=center, date=today)
    _, vaccinator = auth.vaccinator(center)
    body = {"code": appointment["code"], "batch": "RUSH-1"}
    url = f"/appointments/{appointment['id']}/administer"
    assert client.post(url, json=body, headers=vaccinator).status_code == 200
    with app.app_context():
        user_id = db.session.get(Appointment, appointment["id"]).vaccination.user_id
    tally = Tally()
    tally.booking(user_id, 201, appointment["id"])
    return center, appointment["vaccination_id"], tally


def test_a_200_administer_with_its_dose_and_certificate_audits_clean(postgres_url, given):
    center, vaccination_id, tally = given
    tally.administer(vaccination_id, 200)
    result = audit(postgres_url, [center], tally, never)
    assert (result["doses"], result["certificates"], result["administered_200"]) == (1, 1, 1)
    assert (result["doses_lost"], result["doses_without_200"], result["doses_doubled"]) == (0, 0, 0)
    assert (result["lost"], result["overbooked"]) == (0, 0)


def test_a_dose_no_client_saw_answered_is_counted(postgres_url, given):
    center, _, tally = given
    assert audit(postgres_url, [center], tally, never)["doses_without_200"] == 1


def test_a_dose_whose_answer_a_fault_lost_is_explained(postgres_url, given):
    center, vaccination_id, tally = given
    tally.administer(vaccination_id, 503)
    result = audit(postgres_url, [center], tally, lambda t: t is not None)
    assert (result["doses_without_200"], result["doses_unanswered_in_faults"]) == (0, 1)


def test_a_200_administer_without_its_dose_is_lost(postgres_url, given):
    center, vaccination_id, tally = given
    tally.administer(vaccination_id, 200)
    tally.administer(10**9, 200)  # a 200 the database has no dose for
    assert audit(postgres_url, [center], tally, never)["doses_lost"] == 1


def test_the_stack_keeps_booking_open_through_the_sessions_day(tmp_path):
    url = make_url("postgresql://postgres@127.0.0.1:5432/vaccination_stack")
    assert write_env_file(tmp_path / "env", url, 6432, 6380)["BOOKING_CUTOFF"] == "off"
