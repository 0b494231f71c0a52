"""The vaccine catalogue: seeded by a migration, public to read, admin-managed."""

import pytest


def test_seeded_vaccines_are_listed_to_anyone(client):
    vaccines = client.get("/vaccines").get_json()
    schedule = {v["name"]: (v["doses_required"], v["dose_interval_days"]) for v in vaccines}
    assert schedule == {"AstraZeneca": (2, 56), "Moderna": (2, 28), "Pfizer": (2, 21)}


def test_admin_adds_a_vaccine(client, auth):
    _, headers = auth.admin()
    body = {
        "name": "Sinopharm",
        "manufacturer": "BBIBP",
        "doses_required": 2,
        "dose_interval_days": 28,
    }
    response = client.post("/vaccines", json=body, headers=headers)
    assert response.status_code == 201
    assert "Sinopharm" in [v["name"] for v in client.get("/vaccines").get_json()]


def test_a_duplicate_vaccine_name_is_409(client, auth):
    _, headers = auth.admin()
    body = {"name": "Pfizer", "manufacturer": "X", "doses_required": 1, "dose_interval_days": 0}
    response = client.post("/vaccines", json=body, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["errors"]["json"]["name"]


@pytest.mark.parametrize("field, value", [("doses_required", 0), ("dose_interval_days", -1)])
def test_impossible_schedules_are_422(client, auth, field, value):
    _, headers = auth.admin()
    body = {"name": "New", "manufacturer": "X", "doses_required": 1, "dose_interval_days": 0}
    response = client.post("/vaccines", json={**body, field: value}, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_admin_changes_a_vaccine(client, auth, registry):
    _, headers = auth.admin()
    url = f"/vaccines/{registry.vaccine('Moderna')}"
    response = client.patch(url, json={"dose_interval_days": 30}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["dose_interval_days"] == 30
    assert response.get_json()["name"] == "Moderna"


def test_changing_an_unknown_vaccine_is_404(client, auth):
    _, headers = auth.admin()
    for vaccine_id in ("999999", "99999999999999999999"):
        response = client.patch(f"/vaccines/{vaccine_id}", json={}, headers=headers)
        assert response.status_code == 404


def test_admin_deletes_an_unused_vaccine(client, auth, registry):
    _, headers = auth.admin()
    response = client.delete(f"/vaccines/{registry.vaccine('AstraZeneca')}", headers=headers)
    assert response.status_code == 204
    assert "AstraZeneca" not in [v["name"] for v in client.get("/vaccines").get_json()]


def test_a_vaccine_in_use_cannot_be_deleted(client, registry):
    registry.pending(vaccine="Moderna")
    response = client.delete(f"/vaccines/{registry.vaccine('Moderna')}", headers=registry.officer)
    assert response.status_code == 409
    assert "use this vaccine" in response.get_json()["message"]


def test_citizens_get_403_on_vaccine_admin_routes(client, auth, registry):
    _, headers = auth.citizen()
    url = f"/vaccines/{registry.vaccine()}"
    body = {"name": "New", "manufacturer": "X", "doses_required": 1, "dose_interval_days": 0}
    assert client.post("/vaccines", json=body, headers=headers).status_code == 403
    assert client.patch(url, json={"name": "Renamed"}, headers=headers).status_code == 403
    assert client.delete(url, headers=headers).status_code == 403


def test_anonymous_callers_get_401_on_vaccine_admin_routes(client, registry):
    assert client.delete(f"/vaccines/{registry.vaccine()}").status_code == 401


def test_admin_sets_eligible_ages_and_a_booster(client, auth, registry):
    _, headers = auth.admin()
    body = {"min_age": 12, "max_age": 80, "booster_interval_days": 180}
    response = client.patch(f"/vaccines/{registry.vaccine()}", json=body, headers=headers)
    assert response.status_code == 200
    assert {key: response.get_json()[key] for key in body} == body


def test_new_vaccines_default_to_adults_without_a_booster(client, auth):
    _, headers = auth.admin()
    body = {"name": "Novavax", "manufacturer": "N", "doses_required": 2, "dose_interval_days": 21}
    vaccine = client.post("/vaccines", json=body, headers=headers).get_json()
    assert (vaccine["min_age"], vaccine["max_age"], vaccine["booster_interval_days"]) == (
        18,
        None,
        None,
    )


def test_a_max_age_below_the_min_age_is_422(client, auth, registry):
    _, headers = auth.admin()
    url = f"/vaccines/{registry.vaccine()}"
    response = client.patch(url, json={"max_age": 12}, headers=headers)
    assert response.status_code == 422
    assert "max_age" in response.get_json()["errors"]["json"]
