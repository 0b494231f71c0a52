"""Who sees what (issue 16): masked NID, phone, birth year and no address in every answer to
someone other than the person; full values to the owner; an admin's reveal needs a reason and
is audited with it word for word."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent
from backend.sessions.calendar import age_on, local_today
from tests.factories import make_center

NID, MASKED_NID = "1987654321", "******4321"
PHONE, MASKED_PHONE = "+8801712345678", "+880*******678"
BORN = date(1990, 5, 17)
ADDRESS = "12 Lake Road, Dhanmondi"
MEMBER = {"name": "Rafi", "nid": "20171234567890123", "date_of_birth": "2017-02-03"}
REASON = "Ticket #4471: caller asked to confirm their NID  (checked ID card)"


@pytest.fixture
def person(auth):
    """A citizen with every personal field set: (id, headers)."""
    return auth.citizen(
        name="Nusrat Jahan", nid=NID, phone_number=PHONE, date_of_birth=BORN, address=ADDRESS
    )


@pytest.fixture
def officer(auth):
    return auth.admin(name="Officer On Duty")


def assert_masked(account: dict) -> None:
    assert account["nid"] == MASKED_NID
    assert account["phone_number"] == MASKED_PHONE
    assert account["date_of_birth"] == "1990"
    assert account["address"] is None


def assert_full(account: dict) -> None:
    assert account["nid"] == NID and account["phone_number"] == PHONE
    assert account["date_of_birth"] == "1990-05-17" and account["address"] == ADDRESS


def reveals(app) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event == "person.revealed")
        return list(db.session.scalars(query))


def test_the_admin_list_of_accounts_is_masked(client, person, officer):
    answer = client.get("/users", headers=officer[1]).get_json()
    [account] = [account for account in answer if account["id"] == person[0]]
    assert_masked(account)
    assert account["name"] == "Nusrat Jahan"  # the same keys as before, masked values


def test_an_admin_sees_one_account_masked_by_default(client, app, person, officer):
    response = client.get(f"/users/{person[0]}", headers=officer[1])
    assert response.status_code == 200
    assert_masked(response.get_json())
    assert reveals(app) == []


def test_an_admins_change_answers_masked(client, person, officer):
    response = client.patch(f"/users/{person[0]}", json={"name": "N. Jahan"}, headers=officer[1])
    assert response.status_code == 200
    assert_masked(response.get_json())


@pytest.mark.parametrize("url", ["/users/me", "/profile"])
def test_the_owner_sees_their_own_values_in_full(client, person, url):
    answer = client.get(url, headers=person[1]).get_json()
    assert_full(answer)


def test_the_prototype_profile_keeps_phone_in_full(client, person):
    assert client.get("/profile", headers=person[1]).get_json()["phone"] == PHONE


def test_the_owners_change_answers_in_full(client, person):
    response = client.patch("/users/me", json={"name": "N. Jahan"}, headers=person[1])
    assert response.status_code == 200
    assert_full(response.get_json())


def test_the_owner_sees_their_members_in_full(client, person):
    client.post("/users/me/members", json={**MEMBER, "relation": "child"}, headers=person[1])
    [member] = client.get("/users/me/members", headers=person[1]).get_json()
    assert member["nid"] == MEMBER["nid"] and member["date_of_birth"] == "2017-02-03"


def test_reveal_shows_full_values_and_records_officer_person_and_reason(
    client, app, person, officer
):
    response = client.get(
        f"/users/{person[0]}", query_string={"reveal": "true", "reason": REASON}, headers=officer[1]
    )
    assert response.status_code == 200, response.get_json()
    assert_full(response.get_json())
    [event] = reveals(app)
    assert (event.actor_id, event.subject_type, event.subject_id) == (officer[0], "user", person[0])
    assert event.details["reason"] == REASON
    assert NID not in str(event.details) and PHONE not in str(event.details)


def test_an_id_or_phone_typed_into_the_reason_is_recorded_masked(client, app, person, officer):
    reason = "Caller read NID 1990 1234 5678 9 and phone 01711-000123; ticket 58"
    response = client.get(
        f"/users/{person[0]}", query_string={"reveal": "true", "reason": reason}, headers=officer[1]
    )
    assert response.status_code == 200
    [event] = reveals(app)
    assert event.details["reason"] == (
        "Caller read NID **** **** *678 9 and phone *****-**0123; ticket 58"
    )


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("017.1234.5678", "***.****.5678"),
        ("NID 12345/67890", "NID *****/*7890"),
        ("1990\u00a01234\u00a05678", "****\u00a0****\u00a05678"),
        ("017\u20131234\u20135678", "***\u2013****\u20135678"),
        ("seen 2026-12-02, ticket 12345", "seen 2026-12-02, ticket 12345"),
    ],
)
def test_numbers_are_masked_however_they_are_grouped(client, app, person, officer, typed, recorded):
    query = {"reveal": "true", "reason": typed}
    assert (
        client.get(f"/users/{person[0]}", query_string=query, headers=officer[1]).status_code == 200
    )
    [event] = reveals(app)
    assert event.details["reason"] == recorded


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_reveal_without_a_usable_reason_is_422_and_shows_nothing(
    client, app, person, officer, reason
):
    query = {"reveal": "true"} | ({} if reason is None else {"reason": reason})
    response = client.get(f"/users/{person[0]}", query_string=query, headers=officer[1])
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]["query"]
    assert NID not in response.get_data(as_text=True)
    assert reveals(app) == []


def test_a_reason_without_reveal_stays_masked_and_unrecorded(client, app, person, officer):
    query = {"reason": REASON}
    answer = client.get(f"/users/{person[0]}", query_string=query, headers=officer[1]).get_json()
    assert_masked(answer)
    assert reveals(app) == []


def test_non_admins_cannot_reveal(client, app, auth, person):
    center = auth.vaccinator(make_center_id(app))[1]
    citizen = auth.citizen()[1]
    query = {"reveal": "true", "reason": REASON}
    for headers in (center, citizen, person[1]):
        response = client.get(f"/users/{person[0]}", query_string=query, headers=headers)
        assert response.status_code == 403
        assert NID not in response.get_data(as_text=True)
    assert reveals(app) == []


def make_center_id(app) -> int:
    with app.app_context():
        return make_center().id


@pytest.fixture
def member_id(client, person):
    response = client.post(
        "/users/me/members", json={**MEMBER, "relation": "child"}, headers=person[1]
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_an_admin_sees_a_member_masked(client, person, officer, member_id):
    response = client.get(f"/members/{member_id}", headers=officer[1])
    assert response.status_code == 200
    member = response.get_json()
    assert member["nid"] == "*************0123" and member["date_of_birth"] == "2017"
    assert member["user_id"] == person[0] and member["name"] == "Rafi"


def test_an_admin_reveals_a_member_with_a_reason_on_record(client, app, officer, member_id):
    query = {"reveal": "true", "reason": REASON}
    response = client.get(f"/members/{member_id}", query_string=query, headers=officer[1])
    assert response.status_code == 200
    assert response.get_json()["nid"] == MEMBER["nid"]
    assert response.get_json()["date_of_birth"] == "2017-02-03"
    [event] = reveals(app)
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        officer[0],
        "member",
        member_id,
    )
    assert event.details["reason"] == REASON


def test_a_member_reveal_needs_a_reason_and_an_admin(client, person, officer, member_id):
    url = f"/members/{member_id}"
    no_reason = client.get(url, query_string={"reveal": "true"}, headers=officer[1])
    assert no_reason.status_code == 422
    as_owner = client.get(url, query_string={"reveal": "true", "reason": REASON}, headers=person[1])
    assert as_owner.status_code == 403


def test_an_unknown_or_removed_member_is_404(client, person, officer, member_id):
    assert client.get("/members/999999", headers=officer[1]).status_code == 404
    client.delete(f"/users/me/members/{member_id}", headers=person[1])
    assert client.get(f"/members/{member_id}", headers=officer[1]).status_code == 404


def test_a_walk_in_dose_shows_the_vaccinator_name_masked_nid_and_age(client, app, auth, registry):
    vaccinator = auth.vaccinator(make_center_id(app))[1]
    body = {"nid": NID, "name": "Abdul Karim", "date_of_birth": "1975-03-02", "batch": "LOT9"}
    response = client.post(
        "/administrations", json={**body, "vaccine_id": registry.vaccine()}, headers=vaccinator
    )
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()
    with app.app_context():
        age = age_on(date(1975, 3, 2), local_today())
    assert (dose["person"], dose["nid"], dose["age"]) == ("Abdul Karim", MASKED_NID, age)
    text = response.get_data(as_text=True)
    assert NID not in text and "1975-03-02" not in text and "date_of_birth" not in text


def test_an_appointment_dose_shows_the_vaccinator_masked_nid_and_age(
    client, app, auth, booking, monkeypatch
):
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)
    with app.app_context():
        center, today = make_center().id, local_today()
    vaccinator = auth.vaccinator(center)[1]
    _, owner = booking.citizen(nid=NID, phone_number=PHONE, address=ADDRESS)
    appointment, _ = booking.booked(owner, center_id=center, date=today)
    url = f"/appointments/{appointment['id']}/administer"
    response = client.post(
        url, json={"code": appointment["code"], "batch": "B1"}, headers=vaccinator
    )
    assert response.status_code == 200, response.get_json()
    dose = response.get_json()
    assert dose["nid"] == MASKED_NID and dose["age"] == age_on(BORN, today)
    text = response.get_data(as_text=True)
    assert (
        NID not in text and PHONE not in text and ADDRESS not in text and "1990-05-17" not in text
    )


def test_public_certificate_verification_never_shows_the_full_nid(client, registry, person):
    vaccination_id, _ = registry.approved(person[1])
    token = registry.token(vaccination_id, person[1])
    response = client.post("/certificates/verify", json={"token": token})
    assert response.get_json()["valid"] is True
    assert response.get_json()["nid"] == MASKED_NID
    assert NID not in response.get_data(as_text=True)
