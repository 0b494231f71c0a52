"""Bounded counts: long lists say "N+" in X-Pagination instead of counting every row."""

import json
import re

import pytest

from backend import api
from tests.factories import make_center


@pytest.fixture
def eight_centers(app, monkeypatch):
    monkeypatch.setattr(api, "COUNT_LIMIT", 3)
    with app.app_context():
        for number in range(8):
            make_center(name=f"Center {number}", city="Khulna")


def pagination(response) -> dict:
    assert response.status_code == 200
    return json.loads(response.headers["X-Pagination"])


def test_a_count_past_the_limit_is_reported_as_at_least(client, eight_centers):
    response = client.get("/centers?city=Khulna&page_size=2")
    assert pagination(response) == {"total": "3+", "first_page": 1, "page": 1, "next_page": 2}
    assert [center["name"] for center in response.get_json()] == ["Center 0", "Center 1"]


def test_a_page_past_the_limit_counts_up_to_itself(client, eight_centers):
    response = client.get("/centers?city=Khulna&page=2&page_size=2")
    assert pagination(response)["total"] == "4+"
    assert pagination(response)["previous_page"] == 1
    assert [center["name"] for center in response.get_json()] == ["Center 2", "Center 3"]


def test_the_last_page_has_the_exact_total(client, eight_centers):
    response = client.get("/centers?city=Khulna&page=4&page_size=2")
    assert pagination(response)["total"] == 8 and pagination(response)["last_page"] == 4
    assert [center["name"] for center in response.get_json()] == ["Center 6", "Center 7"]


def test_pages_past_the_end_are_empty(client, eight_centers):
    response = client.get("/centers?city=Khulna&page=5&page_size=2")
    assert response.get_json() == [] and pagination(response)["total"] == 8


def test_short_lists_keep_the_exact_total(client, app):
    with app.app_context():
        make_center(name="Only One", city="Sylhet")
    assert pagination(client.get("/centers?city=Sylhet"))["total"] == 1


def test_the_admin_list_of_registrations_is_bounded_too(client, registry, monkeypatch):
    monkeypatch.setattr(api, "COUNT_LIMIT", 1)
    for _ in range(3):
        registry.pending()
    response = client.get("/vaccinations?status=pending&page_size=1", headers=registry.officer)
    assert pagination(response)["total"] == "1+"
    assert len(response.get_json()) == 1 and response.get_json()[0]["status"] == "pending"


def test_the_api_document_allows_both_forms_of_the_total(client, eight_centers):
    """Clients generated from /openapi.json must accept "3+" as well as 8."""
    spec = client.get("/openapi.json").get_json()
    header = spec["components"]["headers"]["PAGINATION"]["schema"]
    total = spec["components"]["schemas"][header["$ref"].rsplit("/", 1)[-1]]["properties"]["total"]
    bounded = pagination(client.get("/centers?city=Khulna&page_size=2"))["total"]
    exact = pagination(client.get("/centers?city=Khulna&page=4&page_size=2"))["total"]
    integer, string = total["oneOf"]
    assert integer == {"type": "integer"} and isinstance(exact, int)
    assert string["type"] == "string" and re.fullmatch(string["pattern"], bounded)
