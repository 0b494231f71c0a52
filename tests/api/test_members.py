"""Routes of backend/members/routes.py: a household's members."""

from datetime import date

import pytest

from tests.factories import registration

# --- POST/GET/PATCH/DELETE /users/me/members, and booking for a member.

CHILD = {"name": "Mitu", "date_of_birth": "2015-03-01", "relation": "child"}


def member(n: int = 1, **fields) -> dict:
    return {**CHILD, "nid": f"2015{n:013d}", **fields}  # a 17-digit birth registration number


@pytest.fixture
def holder(booking):
    return booking.citizen()[1]


def add(client, headers, **fields):
    return client.post("/users/me/members", json=member(**fields), headers=headers)


def test_holder_adds_and_lists_members(client, holder):
    response = add(client, holder)
    assert response.status_code == 201
    assert response.get_json()["nid"] == "20150000000000001"
    listed = client.get("/users/me/members", headers=holder).get_json()
    assert [(m["name"], m["relation"]) for m in listed] == [("Mitu", "child")]


def test_at_most_max_members(client, holder):
    for n in range(4):
        assert add(client, holder, n=n).status_code == 201
    response = add(client, holder, n=9)
    assert response.status_code == 422 and "4" in response.get_json()["message"]


def test_a_member_nid_is_unique_across_members_and_accounts(client, auth, holder):
    assert add(client, holder, n=1).status_code == 201
    _, other = auth.citizen()
    assert add(client, other, n=1).status_code == 409
    auth.citizen(nid="19901234567890")
    response = add(client, other, nid="1990 1234 5678 90")
    assert response.status_code == 409 and "nid" in response.get_json()["errors"]["json"]
    signup = client.post("/auth/register", json=registration(nid="20150000000000001"))
    assert signup.status_code == 409


def test_a_member_books_beside_the_holder(client, booking, holder):
    member_id = add(client, holder).get_json()["id"]
    session_id = booking.session(min_age=None)
    assert booking.book(holder, session_id).status_code == 201
    response = booking.book(holder, booking.session(), member_id=member_id)
    assert response.status_code == 422  # eleven years old: Pfizer here is for 18 and over
    adult = add(client, holder, n=2, date_of_birth="1960-01-01", relation="parent").get_json()
    response = booking.book(holder, session_id, member_id=adult["id"])
    assert response.status_code == 201
    assert response.get_json()["person"] == {"member_id": adult["id"], "name": "Mitu"}
    assert booking.book(holder, booking.session(), member_id=adult["id"]).status_code == 409
    people = {
        a["person"]["member_id"] for a in client.get("/appointments/me", headers=holder).get_json()
    }
    assert people == {None, adult["id"]}


def test_someone_elses_member_cannot_be_booked_or_changed(client, auth, booking, holder):
    member_id = add(client, holder, date_of_birth="1960-01-01").get_json()["id"]
    _, stranger = booking.citizen()
    response = booking.book(stranger, booking.session(), member_id=member_id)
    assert response.status_code == 422 and "member_id" in response.get_json()["errors"]["json"]
    url = f"/users/me/members/{member_id}"
    assert client.patch(url, json={"name": "X"}, headers=stranger).status_code == 404


def test_removing_a_member_with_a_live_appointment_is_409(client, booking, holder):
    member_id = add(client, holder, date_of_birth="1960-01-01").get_json()["id"]
    appointment = booking.book(holder, booking.session(), member_id=member_id).get_json()
    url = f"/users/me/members/{member_id}"
    assert client.delete(url, headers=holder).status_code == 409
    client.delete(f"/appointments/{appointment['id']}", headers=holder)
    assert client.delete(url, headers=holder).status_code == 204
    assert client.get("/users/me/members", headers=holder).get_json() == []
    assert add(client, holder).status_code == 409  # kept with its records, NID and all


def test_a_member_without_records_is_deleted_and_its_nid_freed(client, holder):
    member_id = add(client, holder).get_json()["id"]
    assert client.delete(f"/users/me/members/{member_id}", headers=holder).status_code == 204
    assert add(client, holder).status_code == 201


def test_date_of_birth_is_fixed_once_the_member_has_records(client, booking, holder):
    member_id = add(client, holder, date_of_birth="1960-01-01").get_json()["id"]
    url = f"/users/me/members/{member_id}"
    assert (
        client.patch(url, json={"date_of_birth": "1961-01-01"}, headers=holder).status_code == 200
    )
    booking.book(holder, booking.session(), member_id=member_id)
    response = client.patch(url, json={"date_of_birth": "1962-01-01"}, headers=holder)
    assert response.status_code == 422
    assert client.patch(url, json={"name": "Abba"}, headers=holder).get_json()["name"] == "Abba"


def test_a_members_certificate_names_the_member(client, booking, holder, registry):
    member_id = add(client, holder, date_of_birth="1960-01-01", name="Abba").get_json()["id"]
    appointment = booking.book(holder, booking.session(), member_id=member_id).get_json()
    registry.review(appointment["vaccination_id"], "approve")
    token = registry.token(appointment["vaccination_id"], holder)
    verified = client.post("/certificates/verify", json={"token": token}).get_json()
    assert verified["holder"] == "Abba" and verified["nid"].endswith("0001")
    assert date.fromisoformat(verified["vaccination_date"])
