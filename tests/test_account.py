"""Managing an account: profile changes, contact verification, closing it; admin equivalents."""

import pytest

from backend import notify
from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of, code_in


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
