"""Changing one's email: POST /users/me/email sends a code to the new address, /confirm uses it."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from backend import create_app, notify
from backend.auth.notices import NOTICES
from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of, code_in
from tests.test_mfa import Clock

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


def test_requests_are_throttled_per_account(app, auth):
    _, headers = auth.citizen()
    config = {
        "APP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_DIR": app.config["INSTANCE_DIR"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT": "2/hour",
    }
    throttled = create_app(config).test_client()
    statuses = [
        request_change(throttled, headers, f"t{n}@example.org").status_code for n in range(3)
    ]
    assert statuses == [202, 202, 429]  # the per-address budget (10/hour) is not spent
