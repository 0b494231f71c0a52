"""Routes of backend/users/routes.py: the caller's profile and account, the admin's views."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

import pytest
from sqlalchemy.exc import OperationalError

from backend import notify
from backend.auth.notices import NOTICES
from tests.api.test_mfa import Clock
from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of, code_in

# --- GET /users/me, and the admin's GET /users and GET /users/<id>.


def test_citizen_cannot_list_or_read_other_accounts(client, auth):
    other_id, _ = auth.citizen()
    _, headers = auth.citizen()
    assert client.get("/users", headers=headers).status_code == 403
    assert client.get(f"/users/{other_id}", headers=headers).status_code == 403


def test_admin_lists_accounts_with_pagination_header(client, auth):
    _, headers = auth.admin()
    for _ in range(3):
        auth.citizen()
    response = client.get("/users?page=1&page_size=2", headers=headers)
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    pagination = json.loads(response.headers["X-Pagination"])
    assert pagination["total"] == 4 and pagination["total_pages"] == 2


def test_admin_filters_by_name_email_or_nid(client, auth):
    """Part of a name; the whole email or NID (encrypted: found by blind index only)."""
    _, headers = auth.admin()
    auth.citizen(name="Nusrat Jahan", email="nj@example.org", nid="5550001111")
    auth.citizen(name="Someone Else")
    for q in ("nusrat", "NJ@EXAMPLE.ORG", "5550001111"):
        found = client.get("/users", query_string={"q": q}, headers=headers).get_json()
        assert [user["name"] for user in found] == ["Nusrat Jahan"], q


def test_wildcards_in_q_are_literal(client, auth):
    _, headers = auth.admin()
    auth.citizen(name="Plain Name")
    assert client.get("/users?q=%25", headers=headers).get_json() == []


def test_page_size_above_100_is_refused(client, auth):
    _, headers = auth.admin()
    response = client.get("/users?page_size=101", headers=headers)
    assert response.status_code == 422


def test_admin_reads_one_account_or_gets_404(client, auth):
    _, headers = auth.admin()
    user_id, _ = auth.citizen(name="Read Me")
    assert client.get(f"/users/{user_id}", headers=headers).get_json()["name"] == "Read Me"
    assert client.get("/users/999999", headers=headers).status_code == 404
    assert client.get("/users/99999999999999999999", headers=headers).status_code == 404


def test_create_admin_command_makes_an_admin_who_can_sign_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "Officer@Example.org",
            "--name",
            "Officer",
            "--password",
            "officer passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    token = client.post(
        "/auth/token", data={"username": "officer@example.org", "password": "officer passphrase"}
    ).get_json()["access_token"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["role_id"] == 2 and me["nid"] is None
    again = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "officer@example.org",
            "--name",
            "O",
            "--password",
            "officer passphrase",
        ]
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_a_page_far_past_the_end_is_empty_not_an_error(client, auth):
    _, headers = auth.admin()
    response = client.get("/users?page=1000000000000000000000", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == []


def test_admin_search_finds_an_email_by_its_full_width_look_alike(client, auth):
    _, headers = auth.admin()
    auth.citizen(name="Nusrat Jahan", email="nj@example.org")
    found = client.get("/users", query_string={"q": "ｎｊ@ＥＸＡＭＰＬＥ.ｏｒｇ"}, headers=headers)
    assert [user["name"] for user in found.get_json()] == ["Nusrat Jahan"]


def test_owner_sets_the_date_of_birth_once(client, auth):
    _, headers = auth.citizen()
    response = client.patch("/users/me", json={"date_of_birth": "1990-05-17"}, headers=headers)
    assert response.status_code == 200
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1990-05-17"
    again = client.patch("/users/me", json={"date_of_birth": "1990-05-17"}, headers=headers)
    assert again.status_code == 200
    changed = client.patch("/users/me", json={"date_of_birth": "1991-05-17"}, headers=headers)
    assert changed.status_code == 422
    assert "date_of_birth" in changed.get_json()["errors"]["json"]


def test_admin_corrects_a_date_of_birth(client, auth):
    user_id, headers = auth.citizen(date_of_birth=date(1990, 5, 17))
    _, admin = auth.admin()
    response = client.patch(
        f"/users/{user_id}", json={"date_of_birth": "1990-07-15"}, headers=admin
    )
    assert response.status_code == 200
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1990-07-15"


# --- Managing an account: profile changes, contact verification, closing it; admin equivalents.


def test_citizen_changes_name_and_address(client, auth):
    _, headers = auth.citizen()
    response = client.patch(
        "/users/me", json={"name": "New Name", "address": "7 River Street"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "New Name"
    assert client.get("/users/me", headers=headers).get_json()["address"] == "7 River Street"


def test_new_phone_number_needs_the_password_and_unverifies(client, auth):
    _, headers = auth.citizen(verified=True)
    change = {"phone_number": "01819 000111"}
    assert client.patch("/users/me", json=change, headers=headers).status_code == 422
    wrong = {**change, "current_password": "not my password"}
    assert client.patch("/users/me", json=wrong, headers=headers).status_code == 400
    right = {**change, "current_password": DEFAULT_PASSWORD}
    user = client.patch("/users/me", json=right, headers=headers).get_json()
    assert user["phone_number"] == "+8801819000111"
    assert user["verified"] is False


def forgot(client, email: str) -> None:
    """Ask for a reset code and wait until every delivery of it is done."""
    assert client.post("/auth/password/forgot", json={"email": email}).status_code == 202
    notify.drain()


def test_an_owner_changing_the_phone_gets_no_reset_sms_there(client, auth, mailbox, sms):
    _, headers = auth.citizen(email="own@example.org", phone_number="+8801711000021", verified=True)
    change = {"phone_number": "+8801711000022", "current_password": DEFAULT_PASSWORD}
    assert client.patch("/users/me", json=change, headers=headers).get_json()["verified"] is False
    forgot(client, "own@example.org")
    assert mailbox.wait_for("own@example.org")
    assert all(message["to"] != "+8801711000022" for message in sms.received)


def test_an_admin_changing_the_phone_unverifies_and_reset_sends_no_sms(client, auth, mailbox, sms):
    _, admin = auth.admin()
    user_id, _ = auth.citizen(
        email="moved@example.org", phone_number="+8801711000031", verified=True
    )
    change = {"phone_number": "+8801711000032"}
    response = client.patch(f"/users/{user_id}", json=change, headers=admin)
    assert response.status_code == 200 and response.get_json()["verified"] is False
    forgot(client, "moved@example.org")
    assert mailbox.wait_for("moved@example.org")
    assert all(message["to"] != "+8801711000032" for message in sms.received)


def test_an_admin_cannot_vouch_for_a_new_phone_in_the_same_request(client, auth):
    _, admin = auth.admin()
    user_id, _ = auth.citizen(phone_number="+8801711000041", verified=True)
    change = {"phone_number": "+8801711000042", "verified": True}
    response = client.patch(f"/users/{user_id}", json=change, headers=admin)
    assert response.get_json()["verified"] is False


def test_an_unchanged_phone_or_other_fields_keep_the_account_verified(client, auth):
    _, admin = auth.admin()
    user_id, _ = auth.citizen(phone_number="+8801711000051", verified=True)
    change = {"phone_number": "+8801711000051", "name": "Same Phone"}
    response = client.patch(f"/users/{user_id}", json=change, headers=admin)
    assert response.get_json()["verified"] is True


@pytest.mark.parametrize(
    "field, value",
    [("role_id", 2), ("verified", True), ("email", "x@example.org"), ("nid", "9999999999")],
)
def test_protected_fields_cannot_be_changed_by_the_owner(client, auth, field, value):
    _, headers = auth.citizen()
    before = client.get("/users/me", headers=headers).get_json()
    response = client.patch("/users/me", json={field: value, "name": "X"}, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert client.get("/users/me", headers=headers).get_json() == before


def test_contact_verification_by_code(client, auth, mailbox, sms):
    _, headers = auth.citizen(email="check@example.org", phone_number="+8801711000009")
    assert client.post("/auth/verify/request", headers=headers).status_code == 202
    code = code_in(body_of(mailbox.wait_for("check@example.org")[-1]))
    assert code_in(sms.wait_for("+8801711000009")[-1]["message"]) == code
    wrong = "000000" if code != "000000" else "111111"
    confirm = client.post("/auth/verify/confirm", json={"code": wrong}, headers=headers)
    assert confirm.status_code == 400
    confirm = client.post("/auth/verify/confirm", json={"code": code}, headers=headers)
    assert confirm.status_code == 200 and confirm.get_json()["verified"] is True
    again = client.post("/auth/verify/confirm", json={"code": code}, headers=headers)
    assert again.status_code == 400


def test_closing_an_account_needs_the_password(client, auth):
    _, headers = auth.citizen()
    response = client.delete("/users/me", json={"password": "not it"}, headers=headers)
    assert response.status_code == 400
    assert client.get("/users/me", headers=headers).status_code == 200


def test_a_closed_account_cannot_sign_in_and_its_tokens_die(client, auth):
    _, headers = auth.citizen(email="leaving@example.org")
    response = client.delete("/users/me", json={"password": DEFAULT_PASSWORD}, headers=headers)
    assert response.status_code == 204
    assert client.get("/users/me", headers=headers).status_code == 401
    login = {"username": "leaving@example.org", "password": DEFAULT_PASSWORD}
    assert client.post("/auth/token", data=login).get_json()["error"] == "invalid_grant"


def test_admin_updates_an_account(client, auth):
    _, admin = auth.admin()
    user_id, citizen = auth.citizen()
    response = client.patch(f"/users/{user_id}", json={"verified": True}, headers=admin)
    assert response.status_code == 200 and response.get_json()["verified"] is True
    assert client.patch(f"/users/{user_id}", json={"name": "X"}, headers=citizen).status_code == 403
    assert client.patch("/users/999999", json={"name": "X"}, headers=admin).status_code == 404


def test_admin_closes_an_account(client, auth):
    _, admin = auth.admin()
    user_id, citizen = auth.citizen()
    assert client.delete(f"/users/{user_id}", headers=admin).status_code == 204
    assert client.get("/users/me", headers=citizen).status_code == 401
    assert client.get(f"/users/{user_id}", headers=admin).status_code == 404
    assert client.delete(f"/users/{user_id}", headers=admin).status_code == 404


# --- Changing one's email: POST /users/me/email sends a code to the new address, /confirm uses it.

NOTICE = NOTICES["email_changed"][0]


def request_change(client, headers, new_email, password=DEFAULT_PASSWORD):
    body = {"new_email": new_email, "current_password": password}
    return client.post("/users/me/email", json=body, headers=headers)


def confirm(client, headers, code):
    return client.post("/users/me/email/confirm", json={"code": code}, headers=headers)


def code_sent_to(mailbox, address: str, count: int = 1) -> str:
    return code_in(body_of(mailbox.wait_for(address, count=count)[-1]))


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def signs_in(client, email: str) -> bool:
    response = client.post("/auth/token", data={"username": email, "password": DEFAULT_PASSWORD})
    return response.status_code == 200


def test_a_request_sends_a_code_to_the_new_address_only(client, auth, mailbox):
    _, headers = auth.citizen(email="old@example.org")
    response = request_change(client, headers, "new@example.org")
    assert response.status_code == 202
    assert code_sent_to(mailbox, "new@example.org")
    notify.drain()
    assert [m["To"] for m in mailbox.messages] == ["new@example.org"]


def test_the_code_changes_the_email_and_nothing_else(client, auth, mailbox):
    _, headers = auth.citizen(
        email="keep@example.org", phone_number="+8801711000601", verified=True
    )
    before = client.get("/users/me", headers=headers).get_json()
    request_change(client, headers, "moved@example.org")
    response = confirm(client, headers, code_sent_to(mailbox, "moved@example.org"))
    assert response.status_code == 200
    after = client.get("/users/me", headers=headers).get_json()
    assert after["email"] == "moved@example.org"
    unchanged = ("phone_number", "verified", "name", "nid", "role_id")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}


def test_an_unverified_account_stays_unverified(client, auth, mailbox):
    _, headers = auth.citizen(email="unverified@example.org", verified=False)
    request_change(client, headers, "still@example.org")
    response = confirm(client, headers, code_sent_to(mailbox, "still@example.org"))
    assert response.status_code == 200 and response.get_json()["verified"] is False


def test_the_old_address_is_told_without_the_code(client, auth, mailbox):
    _, headers = auth.citizen(email="was@example.org")
    request_change(client, headers, "now@example.org")
    code = code_sent_to(mailbox, "now@example.org")
    assert confirm(client, headers, code).status_code == 200
    (notice,) = mailbox.wait_for("was@example.org")
    assert notice["Subject"] == NOTICE
    text = body_of(notice)
    assert "n***@example.org" in text and "now@example.org" not in text
    assert code not in text and DEFAULT_PASSWORD not in text


def test_sign_in_works_with_the_new_email_and_not_the_old(client, auth, mailbox):
    _, headers = auth.citizen(email="before@example.org")
    request_change(client, headers, "after@example.org")
    assert confirm(client, headers, code_sent_to(mailbox, "after@example.org")).status_code == 200
    assert signs_in(client, "after@example.org")
    assert not signs_in(client, "before@example.org")


def test_the_new_email_is_normalised(client, auth, mailbox):
    _, headers = auth.citizen(email="plain@example.org")
    assert request_change(client, headers, " ＷＩＤＥ@Example.ORG ").status_code == 202
    response = confirm(client, headers, code_sent_to(mailbox, "wide@example.org"))
    assert response.get_json()["email"] == "wide@example.org"


def test_a_wrong_password_is_refused_like_a_password_change(client, auth, mailbox):
    _, headers = auth.citizen()
    refused = request_change(client, headers, "nope@example.org", password="not my password")
    change = {"current_password": "not my password", "new_password": "a brand new passphrase"}
    like = client.put("/users/me/password", json=change, headers=headers)
    assert refused.status_code == like.status_code == 400
    assert refused.get_json() == like.get_json()
    notify.drain()
    assert mailbox.messages == []


def test_the_current_address_is_refused(client, auth):
    _, headers = auth.citizen(email="same@example.org")
    response = request_change(client, headers, "SAME@example.org")
    assert response.status_code == 422
    assert "new_email" in response.get_json()["errors"]["json"]


def test_an_invalid_address_is_refused(client, auth):
    _, headers = auth.citizen()
    assert request_change(client, headers, "not an email").status_code == 422


def test_signing_in_is_required(client):
    body = {"new_email": "x@example.org", "current_password": DEFAULT_PASSWORD}
    response = client.post("/users/me/email", json=body)
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert client.post("/users/me/email/confirm", json={"code": "123456"}).status_code == 401


def test_a_wrong_code_changes_nothing(client, auth, mailbox):
    _, headers = auth.citizen(email="stay@example.org")
    request_change(client, headers, "elsewhere@example.org")
    code = code_sent_to(mailbox, "elsewhere@example.org")
    assert confirm(client, headers, wrong(code)).status_code == 400
    assert client.get("/users/me", headers=headers).get_json()["email"] == "stay@example.org"


def test_an_expired_code_is_refused(client, auth, mailbox, monkeypatch, long_lived_tokens):
    clock = Clock(monkeypatch)
    _, headers = auth.citizen(email="late@example.org")
    request_change(client, headers, "later@example.org")
    code = code_sent_to(mailbox, "later@example.org")
    clock.advance(10 * 60 + 1)
    assert confirm(client, headers, code).status_code == 400
    assert client.get("/users/me", headers=headers).get_json()["email"] == "late@example.org"


def test_the_sixth_guess_is_refused_even_when_right(client, auth, mailbox):
    _, headers = auth.citizen()
    request_change(client, headers, "guessed@example.org")
    code = code_sent_to(mailbox, "guessed@example.org")
    for _ in range(5):
        assert confirm(client, headers, wrong(code)).status_code == 400
    assert confirm(client, headers, code).status_code == 400


def test_a_code_is_used_once(client, auth, mailbox):
    _, headers = auth.citizen()
    request_change(client, headers, "once@example.org")
    code = code_sent_to(mailbox, "once@example.org")
    assert confirm(client, headers, code).status_code == 200
    assert confirm(client, headers, code).status_code == 400


def test_a_new_request_replaces_the_code_and_its_address(client, auth, mailbox):
    _, headers = auth.citizen()
    request_change(client, headers, "first@example.org")
    first = code_sent_to(mailbox, "first@example.org")
    request_change(client, headers, "second@example.org")
    second = code_sent_to(mailbox, "second@example.org")
    if first != second:
        assert confirm(client, headers, first).status_code == 400
    response = confirm(client, headers, second)
    assert response.status_code == 200 and response.get_json()["email"] == "second@example.org"


def test_a_taken_address_gets_the_same_answer_then_409_at_confirm(client, auth, mailbox):
    auth.citizen(email="taken@example.org")
    _, headers = auth.citizen(email="mine@example.org")
    free = request_change(client, headers, "free@example.org")
    taken = request_change(client, headers, "taken@example.org")
    assert (taken.status_code, taken.get_json()) == (free.status_code, free.get_json())
    response = confirm(client, headers, code_sent_to(mailbox, "taken@example.org"))
    assert response.status_code == 409 and response.get_json()["reason"] == "email_taken"
    assert client.get("/users/me", headers=headers).get_json()["email"] == "mine@example.org"


def test_an_address_taken_meanwhile_is_a_409(client, auth, mailbox):
    _, headers = auth.citizen(email="slow@example.org")
    request_change(client, headers, "contested@example.org")
    code = code_sent_to(mailbox, "contested@example.org")
    auth.citizen(email="contested@example.org")
    assert confirm(client, headers, code).status_code == 409
    notify.drain()
    assert all(m["Subject"] != NOTICE for m in mailbox.messages)


def test_two_accounts_confirming_one_address_at_once_one_wins(app, client, auth, mailbox):
    _, first = auth.citizen(email="racer1@example.org")
    _, second = auth.citizen(email="racer2@example.org")
    request_change(client, first, "prize@example.org")
    first_code = code_sent_to(mailbox, "prize@example.org")
    request_change(client, second, "prize@example.org")
    second_code = code_sent_to(mailbox, "prize@example.org", count=2)
    start = Barrier(2)

    def confirm_at_once(headers, code):
        start.wait()
        return confirm(app.test_client(), headers, code).status_code

    with ThreadPoolExecutor(2) as pool:
        results = pool.map(confirm_at_once, (first, second), (first_code, second_code))
        statuses = sorted(results)
    assert statuses == [200, 409]
    emails = {client.get("/users/me", headers=h).get_json()["email"] for h in (first, second)}
    assert "prize@example.org" in emails and len(emails) == 2


def test_requests_are_throttled_per_account(make_app, auth):
    _, headers = auth.citizen()
    throttled = make_app(RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT="2/hour").test_client()
    statuses = [
        request_change(throttled, headers, f"t{n}@example.org").status_code for n in range(3)
    ]
    assert statuses == [202, 202, 429]  # the per-address budget (10/hour) is not spent


# --- GET /users/me/export: everything held about the caller and their members, and nothing of

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


def test_exports_are_throttled_per_account(make_app, auth):
    throttled = make_app()  # RATELIMIT_EXPORT_PER_ACCOUNT as shipped: 5/hour
    client = throttled.test_client()
    _, headers = auth.citizen()
    _, other = auth.citizen()
    for _ in range(5):
        assert client.get("/users/me/export", headers=headers).status_code == 200
    refused = client.get("/users/me/export", headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests" and body["message"]
    # Per account, not per address: another account from the same address still exports.
    assert client.get("/users/me/export", headers=other).status_code == 200


def test_exports_answered_503_in_an_outage_are_not_counted(make_app, auth, monkeypatch):
    client = make_app(RATELIMIT_EXPORT_PER_ACCOUNT="2/hour").test_client()
    _, headers = auth.citizen()

    def outage(user):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patched:
        patched.setattr("backend.users.routes.export_of", outage)
        for _ in range(3):
            assert client.get("/users/me/export", headers=headers).status_code == 503
    statuses = [client.get("/users/me/export", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
