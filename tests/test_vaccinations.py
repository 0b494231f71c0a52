"""Registering for a dose: the dose rules, who sees what, and cancelling."""

from datetime import timedelta

from backend import clock
from backend.vaccination import services


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
