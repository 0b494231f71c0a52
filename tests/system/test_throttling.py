"""Throttles (backend/throttling.py): each fires at its limit and resets; Redis shares them."""

import logging
import os
import time
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import DEFAULT_PASSWORD


def sign_in(client, username, password="wrong password", address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post(
        "/auth/token", data={"username": username, "password": password}, headers=headers
    )


def test_sign_in_per_address_fires_at_ten(make_app):
    client = make_app().test_client()
    for n in range(10):
        assert sign_in(client, f"user{n}@example.org").status_code == 400
    refused = sign_in(client, "user99@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["code"] == 429


def test_an_answer_within_budget_shows_the_callers_budget_and_asks_no_wait(make_app):
    # The username's budget (7 here) is never shown: it would tell anyone how often an email
    # was tried. The address's (10) is the caller's own.
    app = make_app(RATELIMIT_SIGN_IN_PER_USERNAME="7/15 minutes")
    response = sign_in(app.test_client(), "someone@example.org")
    assert response.status_code == 400
    assert response.headers["X-RateLimit-Limit"] == "10"
    assert response.headers["X-RateLimit-Remaining"] == "9"
    assert "Retry-After" not in response.headers


def test_sign_ins_answered_503_in_an_outage_do_not_spend_the_usernames_budget(
    make_app, auth, monkeypatch
):
    auth.citizen(email="known@example.org")
    client = make_app(TRUSTED_PROXIES=1).test_client()

    def outage(email):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patched:
        patched.setattr("backend.auth.services.look_up_account", outage)
        for n in range(12):
            response = sign_in(client, "known@example.org", address=f"10.0.{n}.1")
            assert response.status_code == 503
    assert sign_in(client, "known@example.org", DEFAULT_PASSWORD, "10.9.9.9").status_code == 200


def test_sign_in_per_username_counts_failures_for_known_and_unknown_alike(make_app, auth):
    auth.citizen(email="known@example.org")
    client = make_app(TRUSTED_PROXIES=1).test_client()
    for username in ("known@example.org", "unknown@example.org"):
        for n in range(10):
            assert sign_in(client, username, address=f"10.0.{n}.1").status_code == 400
        refused = sign_in(client, username, DEFAULT_PASSWORD, address="10.9.9.9")
        assert refused.status_code == 429, username


def test_a_throttle_resets_after_its_window(make_app):
    client = make_app(RATELIMIT_SIGN_IN_PER_ADDRESS="3/second").test_client()
    for n in range(3):
        assert sign_in(client, f"r{n}@example.org").status_code == 400
    assert sign_in(client, "r3@example.org").status_code == 429
    time.sleep(1.1)
    assert sign_in(client, "r4@example.org").status_code == 400


def test_forgot_password_per_email(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    for n in range(5):
        response = client.post(
            "/auth/password/forgot",
            json={"email": "target@example.org"},
            headers={"X-Forwarded-For": f"10.1.{n}.1"},
        )
        assert response.status_code == 202
    again = client.post("/auth/password/forgot", json={"email": "TARGET@example.org"})
    assert again.status_code == 429


def test_forgot_password_per_address(make_app):
    client = make_app().test_client()
    for n in range(20):
        response = client.post("/auth/password/forgot", json={"email": f"other{n}@example.org"})
        assert response.status_code == 202
    assert client.post("/auth/password/forgot", json={"email": "x@example.org"}).status_code == 429


def test_reset_code_guesses_per_email_and_per_address(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    for n in range(10):
        guess = {"email": "target@example.org", "code": f"{n:06d}"}
        response = client.post(
            "/auth/password/verify", json=guess, headers={"X-Forwarded-For": f"10.8.{n}.1"}
        )
        assert response.status_code == 400
    assert client.post("/auth/password/verify", json=guess).status_code == 429
    for n in range(30):
        guess = {"email": f"other{n}@example.org", "code": "123456", "new_password": "pw pw pw pw"}
        assert client.post("/auth/password/reset", json=guess).status_code == 400
    assert client.post("/auth/password/reset", json=guess).status_code == 429


def test_registration_per_address(make_app):
    client = make_app(RATELIMIT_REGISTER_PER_ADDRESS="2/hour").test_client()
    assert client.post("/auth/register", json={}).status_code == 422
    assert client.post("/auth/register", json={}).status_code == 422
    assert client.post("/auth/register", json={}).status_code == 429


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    client = make_app(RATELIMIT_SIGN_IN_PER_ADDRESS="2/minute").test_client()
    for n in range(2):
        sign_in(client, f"p{n}@example.org", address=f"10.2.{n}.1")
    assert sign_in(client, "p3@example.org", address="10.2.9.1").status_code == 429


def test_throttling_off_when_disabled(make_app):
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    statuses = {sign_in(client, f"off{n}@example.org").status_code for n in range(12)}
    assert statuses == {400}


UNREACHABLE = "redis://127.0.0.1:1/0"


def storage_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "backend.throttling" and record.levelno >= logging.WARNING
    ]


def test_unreachable_redis_fails_open(make_app, auth):
    auth.citizen(email="open@example.org")
    client = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client()
    for _ in range(12):
        assert sign_in(client, "open@example.org", DEFAULT_PASSWORD).status_code == 200


def test_unreachable_redis_is_logged_once_per_request_without_the_key(make_app, caplog):
    client = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client()
    assert sign_in(client, "private@example.org").status_code == 400  # two throttles
    warnings = storage_warnings(caplog)
    assert len(warnings) == 1
    assert "private" not in warnings[0] and "127.0.0.1" not in warnings[0]


def test_routes_without_a_throttle_never_reach_the_storage(make_app, auth, caplog):
    _, headers = auth.citizen()
    client = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/users/me", headers=headers).status_code == 200
    assert storage_warnings(caplog) == []
    sign_in(client, "someone@example.org")
    assert len(storage_warnings(caplog)) == 1  # a throttled route does


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's Redis)")
def test_two_instances_share_counts_through_redis(make_app):
    shared = {
        "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"],
        "RATELIMIT_KEY_PREFIX": f"shared-{uuid.uuid4().hex}",
    }
    first, second = make_app(**shared).test_client(), make_app(**shared).test_client()
    for n in range(5):
        assert sign_in(first, f"a{n}@example.org").status_code == 400
        assert sign_in(second, f"b{n}@example.org").status_code == 400
    assert sign_in(first, "c@example.org").status_code == 429
    assert sign_in(second, "d@example.org").status_code == 429


def test_verification_requests_per_address(make_app, auth):
    _, headers = auth.citizen()
    client = make_app(RATELIMIT_VERIFY_PER_ADDRESS="2/hour").test_client()
    assert client.post("/auth/verify/request", headers=headers).status_code == 202
    assert client.post("/auth/verify/request", headers=headers).status_code == 202
    assert client.post("/auth/verify/request", headers=headers).status_code == 429


RESET_GUESS = {"email": "same@example.org", "code": "123456", "new_password": "a new passphrase"}


@pytest.mark.parametrize(
    "setting, send",
    [
        (
            "RATELIMIT_SIGN_IN_PER_USERNAME",
            lambda c, n: sign_in(c, "same@example.org", address=f"10.3.{n}.1"),
        ),
        (
            "RATELIMIT_FORGOT_PER_EMAIL",
            lambda c, n: c.post(
                "/auth/password/forgot",
                json={"email": "same@example.org"},
                headers={"X-Forwarded-For": f"10.4.{n}.1"},
            ),
        ),
        (
            "RATELIMIT_FORGOT_PER_ADDRESS",
            lambda c, n: c.post("/auth/password/forgot", json={"email": f"e{n}@example.org"}),
        ),
        ("RATELIMIT_REGISTER_PER_ADDRESS", lambda c, n: c.post("/auth/register", json={})),
        *(
            (setting, send)
            for url in ("/auth/password/verify", "/auth/password/reset")
            for setting, send in (
                (
                    "RATELIMIT_RESET_PER_EMAIL",
                    lambda c, n, url=url: c.post(
                        url, json=RESET_GUESS, headers={"X-Forwarded-For": f"10.7.{n}.1"}
                    ),
                ),
                (
                    "RATELIMIT_RESET_PER_ADDRESS",
                    lambda c, n, url=url: c.post(url, json={**RESET_GUESS, "email": f"g{n}@x.org"}),
                ),
            )
        ),
    ],
)
def test_every_throttle_fires_at_its_limit_and_resets(make_app, setting, send):
    client = make_app(TRUSTED_PROXIES=1, **{setting: "2/second"}).test_client()
    assert send(client, 1).status_code != 429
    assert send(client, 2).status_code != 429
    refused = send(client, 3)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    time.sleep(1.1)
    assert send(client, 4).status_code != 429


def test_forwarded_for_counts_per_client_behind_a_trusted_proxy(make_app):
    client = make_app(TRUSTED_PROXIES=1, RATELIMIT_SIGN_IN_PER_ADDRESS="2/minute").test_client()
    for n in range(2):
        sign_in(client, f"q{n}@example.org", address="10.5.0.1")
    assert sign_in(client, "q3@example.org", address="10.5.0.1").status_code == 429
    assert sign_in(client, "q4@example.org", address="10.5.0.2").status_code == 400


def test_look_alike_usernames_share_one_throttle(make_app, auth):
    auth.citizen(email="known@example.org")
    client = make_app(TRUSTED_PROXIES=1).test_client()
    variants = ("known@example.org", "ＫＮＯＷＮ@example.org", " Known@Ｅxample.org")
    for n in range(10):
        response = sign_in(client, variants[n % 3], address=f"10.0.{n}.1")
        assert response.status_code == 400
    refused = sign_in(client, "known@example.org", DEFAULT_PASSWORD, address="10.9.9.9")
    assert refused.status_code == 429


# One budget per action (finding 2): whatever URL or body type spends it, every other URL and
# body type of the action is refused once it is gone.


def post(client, path: str, body_type: str, fields: dict, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    if body_type == "json":
        return client.post(path, json=fields, headers=headers)
    content_type = "multipart/form-data" if body_type == "multipart" else None
    return client.post(path, data=fields, content_type=content_type, headers=headers)


SIGN_IN = ["/auth/token", "/auth/login", "/login"]
FORGOT = ["/auth/password/forgot", "/forgot"]
BODY_TYPES = ["form", "json", "multipart"]


@pytest.mark.parametrize(
    "setting, paths, body_types, fields, spend_from_many_addresses",
    [
        pytest.param(
            "RATELIMIT_SIGN_IN_PER_ADDRESS",
            SIGN_IN,
            BODY_TYPES,
            lambda n: {"username": f"u{n}@example.org", "password": "wrong password"},
            False,
            id="sign-in per address",
        ),
        pytest.param(
            "RATELIMIT_SIGN_IN_PER_USERNAME",
            SIGN_IN,
            BODY_TYPES,
            lambda n: {"username": "same@example.org", "password": "wrong password"},
            True,
            id="sign-in failures per username",
        ),
        pytest.param(
            "RATELIMIT_FORGOT_PER_EMAIL",
            FORGOT,
            BODY_TYPES,
            lambda n: {"email": "same@example.org"},
            True,
            id="reset codes per email",
        ),
        pytest.param(
            "RATELIMIT_FORGOT_PER_ADDRESS",
            FORGOT,
            BODY_TYPES,
            lambda n: {"email": f"e{n}@example.org"},
            False,
            id="reset codes per address",
        ),
        pytest.param(
            "RATELIMIT_REGISTER_PER_ADDRESS",
            ["/auth/register", "/create"],
            ["json"],
            lambda n: {},
            False,
            id="registrations per address",
        ),
    ],
)
def test_every_url_and_body_type_of_an_action_shares_its_budget(
    make_app, setting, paths, body_types, fields, spend_from_many_addresses
):
    client = make_app(TRUSTED_PROXIES=1, **{setting: "3/hour"}).test_client()
    spent_on = (paths[-1], body_types[-1])  # the prototype's URL, the last body type
    for n in range(3):
        address = f"10.6.{n}.1" if spend_from_many_addresses else "10.6.0.1"
        assert post(client, *spent_on, fields(n), address).status_code != 429
    for path in paths:
        for body_type in body_types:
            refused = post(client, path, body_type, fields(9), "10.6.0.1")
            assert refused.status_code == 429, f"{path} as {body_type}"
