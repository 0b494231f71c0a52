"""Routes of backend/sessions/routes.py: vaccination sessions (admin) and the public search."""

import json
from datetime import date, timedelta

import pytest

from tests.factories import make_center, make_session

# --- POST/PATCH/DELETE /sessions (admin), POST /sessions/<id>/cancel, and the public GET /sessions.

SOON = date.today() + timedelta(days=7)


@pytest.fixture
def officer(auth):
    return auth.admin()[1]


@pytest.fixture
def center(context):
    return make_center(city="Dhaka").id


def offer(registry, center, **fields) -> dict:
    body = {"center_id": center, "vaccine_id": registry.vaccine(), "date": SOON.isoformat()}
    return {**body, "capacity": 10, **fields}


def test_admin_publishes_a_session(client, registry, officer, center):
    response = client.post("/sessions", json=offer(registry, center), headers=officer)
    assert response.status_code == 201
    session = response.get_json()
    assert (session["capacity"], session["booked"], session["available"]) == (10, 0, 10)
    assert session["center"]["id"] == center and session["vaccine"]["name"] == "Pfizer"
    assert session["min_age"] == 18 and session["status"] == "open"


def test_a_citizen_cannot_publish(client, auth, registry, center):
    _, headers = auth.citizen()
    assert (
        client.post("/sessions", json=offer(registry, center), headers=headers).status_code == 403
    )


def test_a_second_open_session_for_the_same_day_is_409(client, registry, officer, center):
    client.post("/sessions", json=offer(registry, center), headers=officer)
    response = client.post("/sessions", json=offer(registry, center), headers=officer)
    assert response.status_code == 409
    assert "date" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    "field, value",
    [("date", (date.today() - timedelta(days=2)).isoformat()), ("center_id", 999999)],
)
def test_a_past_day_or_unknown_center_is_422(client, registry, officer, center, field, value):
    response = client.post(
        "/sessions", json=offer(registry, center, **{field: value}), headers=officer
    )
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_bulk_publishes_the_chosen_weekdays(client, registry, officer, center):
    monday = SOON + timedelta(days=-SOON.weekday() + 7)
    body = offer(registry, center, capacity=50)
    del body["date"]
    body |= {"date_from": monday.isoformat(), "date_to": (monday + timedelta(13)).isoformat()}
    response = client.post(
        "/sessions/bulk", json={**body, "weekdays": ["mon", "wed"]}, headers=officer
    )
    assert response.status_code == 201
    days = [date.fromisoformat(s["date"]) for s in response.get_json()]
    assert days == [monday + timedelta(n) for n in (0, 2, 7, 9)]
    again = client.post(
        "/sessions/bulk", json={**body, "weekdays": ["wed", "thu"]}, headers=officer
    )
    assert again.status_code == 409  # all or none: Thursday's sessions were not created either
    assert len(client.get(f"/sessions?center_id={center}").get_json()) == 4


def test_capacity_cannot_go_below_the_places_booked(client, officer, center):
    session_id = make_session(center_id=center, capacity=10, booked=6).id
    response = client.patch(f"/sessions/{session_id}", json={"capacity": 5}, headers=officer)
    assert response.status_code == 409
    response = client.patch(f"/sessions/{session_id}", json={"capacity": 6}, headers=officer)
    assert response.status_code == 200 and response.get_json()["available"] == 0


def test_only_a_session_without_bookings_can_be_deleted(client, officer, center):
    booked = make_session(center_id=center, booked=1).id
    empty = make_session(center_id=center, vaccine="Moderna").id
    assert client.delete(f"/sessions/{booked}", headers=officer).status_code == 409
    assert client.delete(f"/sessions/{empty}", headers=officer).status_code == 204
    assert client.get(f"/sessions/{empty}").status_code == 404


def test_search_starts_today_and_takes_inclusive_dates(client, center):
    for days in (-1, 0, 3, 5):
        make_session(center_id=center, date=date.today() + timedelta(days))
    listed = [s["date"] for s in client.get("/sessions").get_json()]
    assert listed[0] >= date.today().isoformat() and len(listed) >= 2
    until = (date.today() + timedelta(3)).isoformat()
    listed = client.get(f"/sessions?date_from={until}&date_to={until}").get_json()
    assert [s["date"] for s in listed] == [until]


def test_search_by_city_ignores_case(client, context):
    dhaka, khulna = make_center(city="Dhaka").id, make_center(city="Khulna").id
    make_session(center_id=dhaka)
    make_session(center_id=khulna)
    listed = client.get("/sessions?city=KHULNA").get_json()
    assert [s["center"]["id"] for s in listed] == [khulna]


def test_search_by_age_follows_the_vaccine_and_the_session(client, auth, registry, center):
    _, officer = auth.admin()
    client.patch(
        f"/vaccines/{registry.vaccine('Moderna')}",
        json={"min_age": 12, "max_age": 17},
        headers=officer,
    )
    adults = make_session(center_id=center).id
    teens = make_session(center_id=center, vaccine="Moderna").id
    over_45 = make_session(center_id=center, vaccine="AstraZeneca", min_age=45).id

    def ids(age):
        return {s["id"] for s in client.get(f"/sessions?age={age}").get_json()}

    assert ids(12) == {teens}
    assert ids(30) == {adults}
    assert ids(45) == {adults, over_45}


def test_search_is_paginated_and_cacheable(client, center):
    for days in range(3):
        make_session(center_id=center, date=SOON + timedelta(days))
    response = client.get("/sessions?page_size=2")
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    assert "max-age" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/sessions?page_size=2", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_center_moving_city_takes_its_sessions_along(client, officer, center):
    make_session(center_id=center)
    client.patch(f"/centers/{center}", json={"city": "Sylhet"}, headers=officer)
    assert client.get("/sessions?city=dhaka").get_json() == []
    assert len(client.get("/sessions?city=sylhet").get_json()) == 1
