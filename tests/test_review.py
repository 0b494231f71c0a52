"""Admin review: the list, approve, reject, and the dose rules across a two-dose journey."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from backend import clock
from backend.extensions import db
from backend.models import Certificate

pytestmark = pytest.mark.usefixtures("long_lived_tokens")  # the clock moves by weeks


def stop_clock(monkeypatch, day: date) -> None:
    """Stop the one clock at noon UTC on `day`."""
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    monkeypatch.setattr("backend.clock.utcnow", lambda: moment)


def certificates(app) -> int:
    with app.app_context():
        return db.session.query(Certificate).count()


def test_approval_records_the_admin_date_and_certificate(client, auth, registry):
    officer_id, officer = auth.admin()
    vaccination_id, _ = registry.pending()
    response = registry.review(vaccination_id, "approve", officer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved" and body["reviewed_by_id"] == officer_id
    assert body["vaccination_date"] == clock.utcnow().date().isoformat()
    assert len(body["certificate"]["certificate_id"]) == 16


REGISTERED_ON = date(2030, 3, 1)
APPROVED_ON = REGISTERED_ON + timedelta(days=5)


@pytest.mark.parametrize(
    "given, status",
    [
        (REGISTERED_ON, 200),
        (REGISTERED_ON + timedelta(days=2), 200),
        (APPROVED_ON, 200),
        (REGISTERED_ON - timedelta(days=1), 422),
        (APPROVED_ON + timedelta(days=1), 422),
        (date(1900, 1, 1), 422),
        (APPROVED_ON.replace(year=APPROVED_ON.year + 1), 422),
    ],
    ids=["registration-day", "between", "today", "day-before", "tomorrow", "1900", "next-year"],
)
def test_the_vaccination_date_lies_between_registration_and_today(
    registry, monkeypatch, given, status
):
    stop_clock(monkeypatch, REGISTERED_ON)
    vaccination_id, _ = registry.pending()
    stop_clock(monkeypatch, APPROVED_ON)
    response = registry.review(vaccination_id, "approve", vaccination_date=given.isoformat())
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert response.get_json()["vaccination_date"] == given.isoformat()
    else:
        assert "vaccination_date" in response.get_json()["errors"]["json"]


def test_a_vaccination_date_in_the_future_is_422(registry):
    vaccination_id, _ = registry.pending()
    tomorrow = (clock.utcnow().date() + timedelta(days=1)).isoformat()
    response = registry.review(vaccination_id, "approve", vaccination_date=tomorrow)
    assert response.status_code == 422
    assert "vaccination_date" in response.get_json()["errors"]["json"]


def test_approving_twice_is_a_no_op_with_one_certificate(app, registry):
    vaccination_id, _ = registry.pending()
    first = registry.review(vaccination_id, "approve")
    again = registry.review(vaccination_id, "approve")
    assert again.status_code == 200
    assert again.get_json()["certificate"] == first.get_json()["certificate"]
    assert certificates(app) == 1


@pytest.mark.parametrize("action, body", [("approve", {}), ("reject", {"reason": "mine"})])
def test_an_admin_cannot_approve_or_reject_their_own_registration(registry, action, body):
    vaccination_id, _ = registry.pending(registry.officer)
    response = registry.review(vaccination_id, action, **body)
    assert response.status_code == 403
    assert "your own" in response.get_json()["message"]


def test_an_admin_cannot_revoke_their_own_certificate(auth, registry):
    vaccination_id, _ = registry.pending(registry.officer)
    _, colleague = auth.admin(name="Second Officer")
    assert registry.review(vaccination_id, "approve", colleague).status_code == 200
    response = registry.review(vaccination_id, "revoke", reason="I would rather not")
    assert response.status_code == 403
    assert "your own" in response.get_json()["message"]
    assert registry.review(vaccination_id, "revoke", colleague, reason="Error").status_code == 200


def test_approving_or_rejecting_a_cancelled_registration_is_409(client, registry):
    vaccination_id, headers = registry.pending()
    client.delete(f"/vaccinations/{vaccination_id}", headers=headers)
    assert registry.review(vaccination_id, "approve").status_code == 409
    response = registry.review(vaccination_id, "reject", reason="too late")
    assert response.status_code == 409
    assert "cancelled" in response.get_json()["message"]


def test_rejection_needs_a_reason_and_keeps_it(registry):
    vaccination_id, _ = registry.pending()
    assert registry.review(vaccination_id, "reject").status_code == 422
    response = registry.review(vaccination_id, "reject", reason="Not eligible yet")
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["rejection_reason"] == "Not eligible yet"


def test_an_approved_registration_cannot_be_rejected(registry):
    vaccination_id, _ = registry.approved()
    assert registry.review(vaccination_id, "reject", reason="oops").status_code == 409


def test_a_rejected_registration_cannot_be_approved(registry):
    vaccination_id, _ = registry.pending()
    registry.review(vaccination_id, "reject", reason="No")
    assert registry.review(vaccination_id, "approve").status_code == 409


def test_reviewing_an_unknown_registration_is_404(registry):
    assert registry.review(999999, "approve").status_code == 404


def test_citizens_get_403_on_admin_routes(client, registry):
    vaccination_id, headers = registry.pending()
    assert client.get("/vaccinations", headers=headers).status_code == 403
    for action in ("approve", "reject", "revoke"):
        response = registry.review(vaccination_id, action, headers, reason="x")
        assert response.status_code == 403, action


def test_admin_list_is_newest_first_and_paginated(client, registry):
    ids = [registry.pending()[0] for _ in range(3)]
    response = client.get("/vaccinations?page_size=2", headers=registry.officer)
    assert [v["id"] for v in response.get_json()] == ids[::-1][:2]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    assert client.get("/vaccinations?page_size=101", headers=registry.officer).status_code == 422


def test_admin_list_filters_by_status_center_and_city(client, registry):
    pending_id, _ = registry.pending()
    approved_id, _ = registry.approved()
    elsewhere = registry.center(city="Sylhet")
    sylhet_id, _ = registry.pending(center_id=elsewhere)

    def listed(**query):
        response = client.get("/vaccinations", query_string=query, headers=registry.officer)
        return sorted(v["id"] for v in response.get_json())

    assert listed(status="approved") == [approved_id]
    assert listed(status="pending") == sorted([pending_id, sylhet_id])
    assert listed(center_id=elsewhere) == [sylhet_id]
    assert listed(city="SYLHET") == [sylhet_id]
    assert client.get("/vaccinations?status=lost", headers=registry.officer).status_code == 422


def test_admin_list_filters_by_registration_date(client, registry, monkeypatch):
    today = clock.utcnow().date()
    stop_clock(monkeypatch, today - timedelta(days=10))
    old_id, _ = registry.pending()
    stop_clock(monkeypatch, today)
    new_id, _ = registry.pending()

    def listed(**query):
        response = client.get("/vaccinations", query_string=query, headers=registry.officer)
        return [v["id"] for v in response.get_json()]

    assert listed(date_from=today.isoformat()) == [new_id]
    assert listed(date_to=(today - timedelta(days=10)).isoformat()) == [old_id]
    assert listed(date_from="2000-01-01", date_to="9999-12-31") == [new_id, old_id]


def test_the_next_dose_before_the_interval_is_422_naming_the_earliest_date(registry):
    first_id, headers = registry.approved()
    dose_one = registry.client.get(f"/vaccinations/{first_id}", headers=headers).get_json()
    earliest = date.fromisoformat(dose_one["vaccination_date"]) + timedelta(days=21)
    response = registry.register(headers)
    assert response.status_code == 422
    assert earliest.isoformat() in response.get_json()["message"]


def test_the_next_dose_may_be_booked_for_a_date_after_the_interval(registry):
    _, headers = registry.approved()
    later = (clock.utcnow().date() + timedelta(days=21)).isoformat()
    response = registry.register(headers, preferred_date=later)
    assert response.status_code == 201 and response.get_json()["dose_number"] == 2


def test_a_different_vaccine_than_the_earlier_doses_is_422(registry, monkeypatch):
    _, headers = registry.approved(vaccine="Moderna")
    stop_clock(monkeypatch, clock.utcnow().date() + timedelta(days=60))
    response = registry.register(headers, vaccine="Pfizer")
    assert response.status_code == 422
    assert "Moderna" in response.get_json()["message"]


@pytest.mark.parametrize("vaccine", ["Pfizer", "AstraZeneca"])
def test_a_full_two_dose_journey(client, registry, monkeypatch, vaccine):
    interval = {"Pfizer": 21, "AstraZeneca": 56}[vaccine]
    start = date(2030, 3, 1)
    stop_clock(monkeypatch, start)
    first_id, headers = registry.approved(vaccine=vaccine)

    stop_clock(monkeypatch, start + timedelta(days=interval - 1))
    too_early = registry.register(headers, vaccine=vaccine)
    assert too_early.status_code == 422
    assert (start + timedelta(days=interval)).isoformat() in too_early.get_json()["message"]

    stop_clock(monkeypatch, start + timedelta(days=interval))
    second = registry.register(headers, vaccine=vaccine)
    assert second.status_code == 201 and second.get_json()["dose_number"] == 2
    approved = registry.review(second.get_json()["id"], "approve")
    assert approved.get_json()["vaccination_date"] == (start + timedelta(interval)).isoformat()

    stop_clock(monkeypatch, start + timedelta(days=365))
    third = registry.register(headers, vaccine=vaccine)
    assert third.status_code == 409
    assert "all 2 doses" in third.get_json()["message"]
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert [(v["dose_number"], v["status"]) for v in mine] == [(2, "approved"), (1, "approved")]
    assert mine[1]["id"] == first_id


def test_approval_before_the_interval_is_422(registry, monkeypatch):
    start = date(2030, 3, 1)
    stop_clock(monkeypatch, start)
    _, headers = registry.approved()
    later = (start + timedelta(days=21)).isoformat()
    second_id = registry.register(headers, preferred_date=later).get_json()["id"]
    stop_clock(monkeypatch, start + timedelta(days=30))
    early = (start + timedelta(days=20)).isoformat()
    response = registry.review(second_id, "approve", vaccination_date=early)
    assert response.status_code == 422
    assert later in response.get_json()["message"]
