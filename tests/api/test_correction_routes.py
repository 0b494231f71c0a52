"""Corrections of a member's certificate: the account holder asks, an admin approves."""

from __future__ import annotations

import pytest

MEMBER = {
    "name": "Rahima Khatun",
    "nid": "1960000000123",
    "date_of_birth": "1960-05-01",
    "relation": "parent",
}


@pytest.fixture
def member_dose(client, registry, booking):
    """A holder's headers, their member's id, the member's dose and its certificate."""
    _, headers = booking.citizen(name="Karim Uddin")
    added = client.post("/users/me/members", json=MEMBER, headers=headers)
    assert added.status_code == 201, added.get_json()
    member_id = added.get_json()["id"]
    booked = booking.book(headers, booking.session(), member_id=member_id)
    assert booked.status_code == 201, booked.get_json()
    vaccination_id = booked.get_json()["vaccination_id"]
    approved = registry.review(vaccination_id, "approve")
    assert approved.status_code == 200, approved.get_json()
    return headers, member_id, vaccination_id, certificate(client, vaccination_id, headers)


def certificate(client, vaccination_id: int, headers: dict) -> dict:
    url = f"/vaccinations/{vaccination_id}/certificate"
    response = client.get(url, headers={**headers, "Accept": "application/json"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ask(client, certificate_id: str, headers: dict, **body):
    body.setdefault("reason", "The name is misspelt.")
    return client.post(f"/certificates/{certificate_id}/corrections", json=body, headers=headers)


def approve(client, registry, correction_id: int):
    return client.post(f"/corrections/{correction_id}/approve", headers=registry.officer)


def verify(client, token: str) -> dict:
    return client.post("/certificates/verify", json={"token": token}).get_json()


def test_the_holder_asks_for_a_members_certificate(client, member_dose):
    headers, member_id, _, old = member_dose
    response = ask(client, old["certificate_id"], headers, name="Rahima Khatoon")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "pending"


def test_approval_supersedes_the_members_certificate(client, registry, member_dose):
    headers, member_id, vaccination_id, old = member_dose
    asked = ask(client, old["certificate_id"], headers, name="Rahima Khatoon")
    response = approve(client, registry, asked.get_json()["id"])
    assert response.status_code == 200, response.get_json()
    new_id = response.get_json()["new_certificate_id"]
    assert new_id != old["certificate_id"]
    before = verify(client, old["token"])
    assert (before["valid"], before["revoke_reason"]) == (False, "superseded")
    assert before["superseded_by"] == new_id
    new = certificate(client, vaccination_id, headers)
    assert new["certificate_id"] == new_id
    assert verify(client, new["token"])["holder"] == "Rahima Khatoon"


def test_approval_renames_the_member_not_the_holder(client, registry, member_dose):
    headers, member_id, _, old = member_dose
    asked = ask(client, old["certificate_id"], headers, name="Rahima Khatoon")
    approve(client, registry, asked.get_json()["id"])
    members = client.get("/users/me/members", headers=headers).get_json()
    assert [(m["id"], m["name"]) for m in members] == [(member_id, "Rahima Khatoon")]
    assert client.get("/users/me", headers=headers).get_json()["name"] == "Karim Uddin"


def test_a_member_and_the_holder_have_separate_limits(client, registry, member_dose):
    headers, _, _, old = member_dose
    for n in range(5):
        assert ask(client, old["certificate_id"], headers, name=f"Rahima {n}").status_code == 202
    refused = ask(client, old["certificate_id"], headers, name="Rahima 6")
    assert refused.status_code == 409
    own, _ = registry.approved(headers)
    mine = certificate(client, own, headers)["certificate_id"]
    assert ask(client, mine, headers, name="Karim Uddin Ahmed").status_code == 202


def test_someone_else_cannot_ask_for_a_members_certificate(client, registry, member_dose):
    _, _, _, old = member_dose
    stranger = registry.auth.citizen()[1]
    assert ask(client, old["certificate_id"], stranger, name="Stranger").status_code == 404
