"""GET /users/me/export: everything held about the caller and their members, and nothing of
anyone else's."""

from __future__ import annotations

from datetime import date

import pytest

REASON = "Hotline call 2291: confirming the holder's phone"


def add_member(client, headers, **fields) -> dict:
    body = {"name": "Rafi", "nid": "20171234567890123", "date_of_birth": "1962-02-03"}
    body |= {"relation": "parent", **fields}
    response = client.post("/users/me/members", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def with_records(client, registry, booking, headers, **member) -> dict:
    """A member with an appointment, an approved dose with its certificate, and a correction."""
    member = add_member(client, headers, **member)
    booked = booking.book(headers, booking.session(), member_id=member["id"])
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()
    vaccination_id, _ = registry.approved(headers)
    vaccination = client.get(f"/vaccinations/{vaccination_id}", headers=headers).get_json()
    certificate_id = vaccination["certificate"]["certificate_id"]
    correction = client.post(
        f"/certificates/{certificate_id}/corrections",
        json={"name": "Corrected Name", "reason": "Spelling"},
        headers=headers,
    )
    assert correction.status_code == 202, correction.get_json()
    return {
        "member": member,
        "appointment": appointment,
        "vaccination_id": vaccination_id,
        "certificate_id": certificate_id,
        "correction_id": correction.get_json()["id"],
    }


@pytest.fixture
def caller(auth, booking):
    return booking.citizen(
        name="Nusrat Jahan",
        email="nusrat@example.org",
        nid="1987654321",
        phone_number="+8801712345678",
        address="12 Lake Road",
        born=date(1990, 5, 17),
    )


@pytest.fixture
def other(auth, booking):
    return booking.citizen(
        name="Someone Else",
        email="someone.else@example.org",
        nid="5550001111",
        phone_number="+8801819999888",
        address="99 Other Street",
    )


def export(client, headers) -> dict:
    response = client.get("/users/me/export", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_export_needs_a_token(client):
    response = client.get("/users/me/export")
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]


def test_the_account_is_exported_in_full(client, caller):
    account = export(client, caller[1])["account"]
    assert account["id"] == caller[0] and account["email"] == "nusrat@example.org"
    assert account["nid"] == "1987654321" and account["phone_number"] == "+8801712345678"
    assert account["date_of_birth"] == "1990-05-17" and account["address"] == "12 Lake Road"
    assert "password_hash" not in str(account) and "mfa_secret" not in str(account)


def test_the_export_holds_every_record_of_the_caller_and_their_members(
    client, registry, booking, caller
):
    mine = with_records(client, registry, booking, caller[1])
    data = export(client, caller[1])
    assert [member["nid"] for member in data["members"]] == ["20171234567890123"]
    assert {v["id"] for v in data["vaccinations"]} >= {mine["vaccination_id"]}
    assert mine["appointment"]["vaccination_id"] in {v["id"] for v in data["vaccinations"]}
    assert [a["id"] for a in data["appointments"]] == [mine["appointment"]["id"]]
    assert [dose["vaccination_id"] for dose in data["doses"]] == [mine["vaccination_id"]]
    assert [c["certificate_id"] for c in data["certificates"]] == [mine["certificate_id"]]
    assert data["certificates"][0]["token"]
    assert [c["id"] for c in data["corrections"]] == [mine["correction_id"]]
    events = {(e["event"], e["subject_type"], e["subject_id"]) for e in data["audit_events"]}
    assert any(e[1:] == ("user", caller[0]) for e in events)
    assert any(e[1:] == ("member", mine["member"]["id"]) for e in events)
    assert any(e[1:] == ("vaccination", mine["vaccination_id"]) for e in events)
    assert any(e[1:] == ("appointment", mine["appointment"]["id"]) for e in events)
    assert any(e[1:] == ("correction", mine["correction_id"]) for e in events)


def test_removed_members_the_registry_keeps_are_exported_as_removed(client, booking, caller):
    member = add_member(client, caller[1])
    booked = booking.book(caller[1], booking.session(), member_id=member["id"]).get_json()
    assert client.delete(f"/appointments/{booked['id']}", headers=caller[1]).status_code == 204
    response = client.delete(f"/users/me/members/{member['id']}", headers=caller[1])
    assert response.status_code == 204
    [exported] = export(client, caller[1])["members"]
    assert exported["id"] == member["id"] and exported["removed_at"]


def test_an_officers_reveal_is_exported_with_its_reason_but_not_the_officer(client, auth, caller):
    officer_id, officer = auth.admin(name="Officer Karim", email="karim.officer@example.org")
    query = {"reveal": "true", "reason": REASON}
    assert client.get(f"/users/{caller[0]}", query_string=query, headers=officer).status_code == 200
    data = export(client, caller[1])
    [event] = [e for e in data["audit_events"] if e["event"] == "person.revealed"]
    assert event["details"]["reason"] == REASON and event["actor"] == "admin"
    assert event["client_address"] is None  # the officer's, not the caller's
    text = str(data)
    assert "Officer Karim" not in text and "karim.officer@example.org" not in text


def test_the_callers_own_events_carry_their_address(client, caller):
    events = export(client, caller[1])["audit_events"]
    signed_in = [e for e in events if e["event"] == "sign_in.succeeded"]
    assert signed_in and signed_in[0]["actor"] == "you" and signed_in[0]["client_address"]


def test_nothing_of_another_person_is_exported(client, auth, registry, booking, caller, other):
    theirs = with_records(
        client, registry, booking, other[1], name="Other Child", nid="30171234567890123"
    )
    with_records(client, registry, booking, caller[1])
    officer = auth.admin()[1]
    query = {"reveal": "true", "reason": "Checking someone else"}
    client.get(f"/users/{other[0]}", query_string=query, headers=officer)
    data = export(client, caller[1])
    text = str(data)
    for value in (
        "Someone Else",
        "someone.else@example.org",
        "5550001111",
        "+8801819999888",
        "99 Other Street",
        "Other Child",
        "30171234567890123",
        theirs["certificate_id"],
        "Checking someone else",
    ):
        assert value not in text, value
    assert theirs["vaccination_id"] not in {v["id"] for v in data["vaccinations"]}
    assert theirs["appointment"]["id"] not in {a["id"] for a in data["appointments"]}
    assert theirs["correction_id"] not in {c["id"] for c in data["corrections"]}
    assert all(
        e["subject_id"] != other[0] or e["subject_type"] != "user" for e in data["audit_events"]
    )
    assert text


def test_closing_the_account_still_works_after_an_export(client, caller):
    export(client, caller[1])
    response = client.delete(
        "/users/me", json={"password": "correct horse battery"}, headers=caller[1]
    )
    assert response.status_code == 204
    assert client.get("/users/me/export", headers=caller[1]).status_code == 401
