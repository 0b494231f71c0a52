"""Protected routes accept only a valid bearer token from the Authorization header (RFC 6750)."""

import base64
import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from backend.extensions import db
from backend.models import User

SECRET = "testing-only-secret-key-0123456789abcdef"


def forged(claims: dict, key: str = SECRET, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {"sub": "1", "type": "access", "jti": "x", "ver": 0, "iat": now, "nbf": now}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, key, algorithm=algorithm)


def test_missing_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.get_json()["code"] == 401


def test_valid_token_reads_the_profile(client, auth):
    user_id, headers = auth.citizen(email="me@example.org")
    response = client.get("/users/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["id"] == user_id


def test_lower_case_bearer_scheme_is_accepted(client, auth):
    _, headers = auth.citizen()
    headers = {"Authorization": headers["Authorization"].replace("Bearer", "bearer")}
    assert client.get("/users/me", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda uid: forged({"sub": uid}, key="another-key-" * 4), id="wrong key"),
        pytest.param(
            lambda uid: forged({"sub": uid, "exp": datetime.now(UTC) - timedelta(seconds=5)}),
            id="expired",
        ),
        pytest.param(lambda uid: forged({"sub": uid}), id="no exp"),
        pytest.param(
            lambda uid: forged(
                {"sub": uid, "exp": datetime.now(UTC) + timedelta(hours=1)}, None, "none"
            ),
            id="alg none",
        ),
        pytest.param(lambda uid: "not.a.token", id="malformed"),
        pytest.param(
            lambda uid: forged(
                {"sub": uid, "type": "refresh", "exp": datetime.now(UTC) + timedelta(hours=1)}
            ),
            id="not an access token",
        ),
    ],
)
def test_bad_tokens_are_401_invalid_token(client, auth, make_token):
    user_id, _ = auth.citizen()
    response = client.get(
        "/users/me", headers={"Authorization": f"Bearer {make_token(str(user_id))}"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["code"] == 401


def test_tampered_token_is_401(client, auth):
    user_id, headers = auth.citizen()
    header, payload, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    other = forged({"sub": str(user_id + 1), "exp": datetime.now(UTC) + timedelta(hours=1)})
    tampered = ".".join([header, other.split(".")[1], signature])
    response = client.get("/users/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401


def test_token_in_query_string_or_body_is_ignored(client, auth):
    _, headers = auth.citizen()
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/users/me?access_token={token}").status_code == 401
    assert client.get("/users/me", json={"access_token": token}).status_code == 401


def test_other_schemes_are_401(client, auth):
    response = client.get("/users/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_removed_account_is_401(client, auth, app):
    user_id, headers = auth.citizen()
    with app.app_context():
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()
    assert client.get("/users/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "éé.b.c",
        "e30.e30.",  # {} header, {} claims, no signature
        "W10.e30.c2ln",  # a header that is a list
    ],
)
def test_malformed_tokens_are_401(client, token):
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_not_yet_valid_is_401(client, auth):
    user_id, _ = auth.citizen()
    later = datetime.now(UTC) + timedelta(minutes=5)
    token = forged({"sub": str(user_id), "nbf": later, "exp": later + timedelta(hours=1)})
    assert client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_with_hs512_and_our_key_is_401(client, auth):
    user_id, _ = auth.citizen()
    exp = datetime.now(UTC) + timedelta(hours=1)
    token = forged({"sub": str(user_id), "exp": exp}, algorithm="HS512")
    assert client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_forged_token_with_our_key_and_all_claims_is_accepted(client, auth):
    # Guards the test helpers above: the same construction with a valid shape does pass.
    user_id, _ = auth.citizen()
    exp = datetime.now(UTC) + timedelta(hours=1)
    token = forged({"sub": str(user_id), "exp": exp})
    assert client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _segment(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("deep", ["header", "payload"])
def test_a_token_of_deeply_nested_json_is_a_401_not_a_traceback(client, caplog, deep):
    # Unsigned (a garbage signature): whichever segment a verifier parses first must not crash.
    nested = "[" * 1500 + "]" * 1500
    header = nested if deep == "header" else '{"alg": "HS256", "typ": "JWT"}'
    payload = nested if deep == "payload" else '{"sub": "1"}'
    token = f"{_segment(header)}.{_segment(payload)}.{_segment('x' * 32)}"
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
