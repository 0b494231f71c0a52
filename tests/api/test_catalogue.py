"""Routes of backend/vaccination/catalogue_routes.py: vaccines and centers."""

import json

import pytest

# --- The vaccine catalogue: seeded by a migration, public to read, admin-managed.


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


# --- Vaccination centers: public search by city and text, distinct cities, admin management.


def names(response) -> list[str]:
    return [center["name"] for center in response.get_json()]


def test_centers_are_listed_to_anyone_by_name_with_pagination(client, registry):
    for name in ("Beta", "Alpha", "Gamma"):
        registry.center(name=name)
    response = client.get("/centers?page_size=2")
    assert names(response) == ["Alpha", "Beta"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


def test_city_filter_ignores_letter_case_and_spacing(client, registry):
    registry.center(name="In Dhaka", city="Dhaka")
    registry.center(name="In Chattogram", city="Chattogram")
    assert names(client.get("/centers?city=dHAKA")) == ["In Dhaka"]
    assert names(client.get("/centers", query_string={"city": "  dhaka "})) == ["In Dhaka"]


def test_q_matches_part_of_the_name_or_address(client, registry):
    registry.center(name="Kurmitola General", address="Airport Road")
    registry.center(name="Mugda Medical", address="Mugda Para")
    assert names(client.get("/centers?q=kurmi")) == ["Kurmitola General"]
    assert names(client.get("/centers?q=para")) == ["Mugda Medical"]
    assert names(client.get("/centers?q=%25")) == []


def test_inactive_centers_are_hidden_unless_asked_for(client, registry):
    registry.center(name="Closed", active=False)
    assert names(client.get("/centers")) == []
    assert names(client.get("/centers?include_inactive=true")) == ["Closed"]


def test_cities_lists_each_city_with_an_active_center_once(client, registry):
    registry.center(city="Dhaka")
    registry.center(city="dhaka")
    registry.center(city="Sylhet")
    registry.center(city="Khulna", active=False)
    assert client.get("/cities").get_json() == ["Dhaka", "Sylhet"]


def test_one_center_or_404(client, registry):
    center_id = registry.center(name="Shown")
    assert client.get(f"/centers/{center_id}").get_json()["name"] == "Shown"
    assert client.get("/centers/999999").status_code == 404
    assert client.get("/centers/99999999999999999999").status_code == 404


def test_admin_creates_changes_and_deactivates_a_center(client, registry):
    body = {"name": "New Center", "city": "Rajshahi", "address": "1 Station Road"}
    created = client.post("/centers", json=body, headers=registry.officer)
    assert created.status_code == 201 and created.get_json()["active"] is True
    url = f"/centers/{created.get_json()['id']}"
    changed = client.patch(url, json={"active": False, "city": "Bogura"}, headers=registry.officer)
    assert changed.status_code == 200
    assert changed.get_json()["active"] is False and changed.get_json()["city"] == "Bogura"
    assert names(client.get("/centers?city=bogura&include_inactive=1")) == ["New Center"]


def test_a_center_needs_name_city_and_address(client, registry):
    response = client.post("/centers", json={"name": "Only"}, headers=registry.officer)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]) == {"city", "address"}


def test_admin_deletes_an_unused_center(client, registry):
    center_id = registry.center()
    assert client.delete(f"/centers/{center_id}", headers=registry.officer).status_code == 204
    assert client.get(f"/centers/{center_id}").status_code == 404


def test_a_center_in_use_cannot_be_deleted(client, registry):
    registry.pending()
    url = f"/centers/{registry.default_center}"
    response = client.delete(url, headers=registry.officer)
    assert response.status_code == 409
    assert "deactivate it instead" in response.get_json()["message"]


def test_citizens_get_403_on_center_admin_routes(client, auth, registry):
    _, headers = auth.citizen()
    url = f"/centers/{registry.center()}"
    body = {"name": "X", "city": "Y", "address": "Z"}
    assert client.post("/centers", json=body, headers=headers).status_code == 403
    assert client.patch(url, json={"active": False}, headers=headers).status_code == 403
    assert client.delete(url, headers=headers).status_code == 403


def test_a_page_far_past_the_end_is_empty(client, registry):
    registry.center()
    response = client.get("/centers?page=1000000000000000000000")
    assert response.status_code == 200 and response.get_json() == []
