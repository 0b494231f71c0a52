"""Vaccination centers: public search by city and text, distinct cities, admin management."""

import json


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
