"""Routes of backend/vaccination/routes.py: registering for a dose and the admin review."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from backend import clock
from backend.extensions import db
from backend.models import Certificate
from backend.vaccination import services

# --- Registering for a dose: the dose rules, who sees what, and cancelling.


def test_registration_is_pending_for_the_first_dose(client, auth, registry):
    _, headers = auth.citizen()
    response = registry.register(headers, vaccine="Moderna")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["dose_number"] == 1
    assert body["vaccine"]["name"] == "Moderna"
    assert body["center"]["name"] == "Dhaka Medical College"
    assert body["preferred_date"] is None and body["certificate"] is None


def test_registration_needs_a_signed_in_account(client, registry):
    assert registry.register({}).status_code == 401


def test_admins_register_for_themselves_too(client, registry):
    response = registry.register(registry.officer)
    assert response.status_code == 201


def test_a_second_pending_registration_is_409(client, registry):
    _, headers = registry.pending()
    response = registry.register(headers)
    assert response.status_code == 409
    assert "pending registration" in response.get_json()["message"]


def test_the_database_refuses_a_racing_second_pending_registration(registry, monkeypatch):
    _, headers = registry.pending()
    monkeypatch.setattr(services, "has_pending", lambda *person: False)  # lose the race
    response = registry.register(headers)
    assert response.status_code == 409
    assert "pending registration" in response.get_json()["message"]


def test_a_preferred_date_in_the_past_is_422(registry):
    _, headers = registry.auth.citizen()
    yesterday = (clock.utcnow().date() - timedelta(days=1)).isoformat()
    response = registry.register(headers, preferred_date=yesterday)
    assert response.status_code == 422
    assert "preferred_date" in response.get_json()["errors"]["json"]


def test_a_preferred_date_today_is_accepted(registry):
    _, headers = registry.auth.citizen()
    today = clock.utcnow().date().isoformat()
    response = registry.register(headers, preferred_date=today)
    assert response.status_code == 201 and response.get_json()["preferred_date"] == today


def test_unknown_or_inactive_centers_and_unknown_vaccines_are_422(registry):
    _, headers = registry.auth.citizen()
    closed = registry.center(active=False)
    for body, field in (
        ({"center_id": 999999}, "center_id"),
        ({"center_id": closed}, "center_id"),
        ({"vaccine_id": 999999}, "vaccine_id"),
    ):
        response = registry.register(headers, **body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]["json"]


def test_unverified_accounts_are_refused_when_verification_is_required(registry, app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_VERIFIED", True)
    _, unverified = registry.auth.citizen(verified=False)
    _, verified = registry.auth.citizen(verified=True)
    response = registry.register(unverified)
    assert response.status_code == 403
    assert "verified" in response.get_json()["message"]
    assert registry.register(verified).status_code == 201


def test_my_registrations_are_listed_newest_first(client, registry):
    first, headers = registry.pending()
    client.delete(f"/vaccinations/{first}", headers=headers)
    second, _ = registry.pending(headers)
    registry.pending()  # someone else's
    mine = client.get("/vaccinations/me", headers=headers).get_json()
    assert [v["id"] for v in mine] == [second, first]


def test_the_owner_and_admins_read_a_registration(client, registry):
    vaccination_id, headers = registry.pending()
    for reader in (headers, registry.officer):
        response = client.get(f"/vaccinations/{vaccination_id}", headers=reader)
        assert response.status_code == 200 and response.get_json()["id"] == vaccination_id


def test_citizen_a_cannot_see_cancel_or_download_citizen_bs_records(client, registry):
    pending_id, _ = registry.pending()
    approved_id, _ = registry.approved()
    _, stranger = registry.auth.citizen()
    for vaccination_id in (pending_id, approved_id):
        url = f"/vaccinations/{vaccination_id}"
        assert client.get(url, headers=stranger).status_code == 404
        assert client.delete(url, headers=stranger).status_code == 404
        with client.get(f"{url}/certificate", headers=stranger) as response:
            assert response.status_code == 404
    assert client.get(f"/vaccinations/{pending_id}", headers=registry.officer).status_code == 200


def test_unknown_and_out_of_range_ids_are_404(client, registry):
    for vaccination_id in ("999999", "99999999999999999999"):
        response = client.get(f"/vaccinations/{vaccination_id}", headers=registry.officer)
        assert response.status_code == 404


def test_the_owner_cancels_a_pending_registration(client, registry):
    vaccination_id, headers = registry.pending()
    assert client.delete(f"/vaccinations/{vaccination_id}", headers=headers).status_code == 204
    record = client.get(f"/vaccinations/{vaccination_id}", headers=headers).get_json()
    assert record["status"] == "cancelled"
    assert registry.register(headers).status_code == 201  # no longer open


def test_an_approved_registration_cannot_be_cancelled(client, registry):
    vaccination_id, headers = registry.approved()
    response = client.delete(f"/vaccinations/{vaccination_id}", headers=headers)
    assert response.status_code == 409


def test_an_admin_cannot_cancel_someone_elses_registration(client, registry):
    vaccination_id, _ = registry.pending()
    response = client.delete(f"/vaccinations/{vaccination_id}", headers=registry.officer)
    assert response.status_code == 403


# --- Admin review: the list, approve, reject, and the dose rules across a two-dose journey.

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
