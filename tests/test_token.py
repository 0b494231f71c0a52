"""POST /auth/token: the OAuth 2.0 password grant (RFC 6749 §4.3, errors per §5.2)."""

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from backend.extensions import db
from backend.models import User
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import make_user


@pytest.fixture
def account(context):
    return make_user(email="karim@example.org").email


@pytest.mark.parametrize("path", ["/auth/token", "/auth/login", "/login"])
def test_urlencoded_sign_in_returns_a_bearer_token(client, account, path):
    response = client.post(
        path, data={"grant_type": "password", "username": account, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].count(".") == 2
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/auth/token", "/login"])
def test_multipart_sign_in_without_grant_type_works(client, account, path):
    response = client.post(
        path,
        data={"username": account, "password": DEFAULT_PASSWORD},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json()["token_type"] == "bearer"


def test_json_sign_in_works_and_email_case_does_not_matter(client, account):
    response = client.post(
        "/auth/token", json={"username": account.upper(), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200


def test_wrong_password_and_unknown_account_get_identical_answers(client, account):
    wrong = client.post("/auth/token", data={"username": account, "password": "wrong password"})
    unknown = client.post(
        "/auth/token", data={"username": "nobody@example.org", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.data == unknown.data
    assert wrong.get_json()["error"] == "invalid_grant"
    assert wrong.headers["Cache-Control"] == unknown.headers["Cache-Control"] == "no-store"


def test_other_grant_types_are_unsupported(client, account):
    response = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "username": account, "password": "x"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_missing_password_is_an_invalid_request(client, account):
    response = client.post("/auth/token", data={"username": account})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_empty_body_is_an_invalid_request(client):
    response = client.post("/auth/token")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_weaker_hash_is_upgraded_at_sign_in(app, client, context, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_HASHING", "owasp")  # production's parameters
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = make_user(email="old@example.org")
    user.password_hash = weak.hash(DEFAULT_PASSWORD)
    db.session.commit()
    response = client.post(
        "/auth/token", data={"username": "old@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    db.session.expire_all()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert "m=19456,t=2,p=1" in stored
    assert stored.startswith("$argon2id$")


def test_an_over_long_grant_type_is_an_invalid_request(client, account):
    response = client.post(
        "/auth/token", data={"grant_type": "x" * 65, "username": account, "password": "x"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_sign_in_with_a_full_width_look_alike_of_the_email(client, auth):
    auth.citizen(email="alice@example.org")
    response = client.post(
        "/auth/token", data={"username": "ａｌｉｃｅ@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
