"""Routes of backend/auth/mfa_routes.py: two-factor enrolment, the mfa-otp grant, the staff gate."""

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent, RecoveryCode, User
from backend.privacy.fields import index_of
from tests.conftest import DEFAULT_PASSWORD

# --- Two-factor sign-in (TOTP): enrolment, the mfa-otp grant, recovery codes and the staff gate.

MFA_GRANT = "urn:vaccination:params:oauth:grant-type:mfa-otp"
START = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)


class Clock:
    """The app's one clock, held still and moved by the test."""

    def __init__(self, monkeypatch):
        self.now = START
        monkeypatch.setattr("backend.clock.utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def enrolled(client, auth, clock):
    """A citizen with two-factor on: (email, secret, recovery codes, headers)."""
    email = f"two-{uuid.uuid4().hex[:8]}@example.org"
    _, headers = auth.citizen(email=email)
    secret, codes = enrol(client, headers, clock)
    clock.advance(30)  # the confirmation's code is spent: later sign-ins need the next one
    return email, secret, codes, headers


def enrol(client, headers, clock) -> tuple[str, list[str]]:
    started = client.post(
        "/users/me/mfa/totp", json={"current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert started.status_code == 201, started.get_json()
    secret = started.get_json()["secret"]
    confirmed = client.post(
        "/users/me/mfa/totp/confirm", json={"code": code_at(secret, clock)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()["recovery_codes"]


def code_at(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def password_step(client, email, path="/auth/token"):
    return client.post(path, data={"username": email, "password": DEFAULT_PASSWORD})


def otp_step(client, mfa_token, otp, path="/auth/token"):
    return client.post(path, data={"grant_type": MFA_GRANT, "mfa_token": mfa_token, "otp": otp})


def test_enrolment_gives_a_secret_its_uri_and_a_qr_code(client, auth):
    _, headers = auth.citizen(email="qr@example.org")
    response = client.post(
        "/users/me/mfa/totp", json={"current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_png_base64"].startswith("iVBORw0KGgo")  # a PNG's signature, base64
    assert response.headers["Cache-Control"] == "no-store"


def test_enrolment_needs_the_current_password(client, auth):
    _, headers = auth.citizen()
    response = client.post(
        "/users/me/mfa/totp", json={"current_password": "not it at all"}, headers=headers
    )
    assert response.status_code == 400


def test_confirmation_turns_it_on_with_ten_recovery_codes_and_the_secret_is_encrypted(
    app, client, enrolled
):
    email, secret, codes, headers = enrolled
    assert len(codes) == len(set(codes)) == 10
    assert client.get("/users/me", headers=headers).get_json()["mfa_enabled"] is True
    with app.app_context():
        user = db.session.scalars(
            select(User).where(User.email_index == index_of("email", email))
        ).one()
        assert secret not in user.mfa_secret
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not {code.replace("-", "") for code in codes} & set(stored)


def test_a_wrong_confirmation_code_leaves_it_off(client, auth, clock):
    _, headers = auth.citizen()
    client.post("/users/me/mfa/totp", json={"current_password": DEFAULT_PASSWORD}, headers=headers)
    response = client.post("/users/me/mfa/totp/confirm", json={"code": "000000"}, headers=headers)
    assert response.status_code == 400
    assert client.get("/users/me", headers=headers).get_json()["mfa_enabled"] is False


@pytest.mark.parametrize("path", ["/auth/token", "/auth/login", "/login"])
def test_password_alone_answers_mfa_required_then_the_code_gives_the_token(
    client, enrolled, clock, path
):
    email, secret, _, _ = enrolled
    challenged = password_step(client, email, path)
    assert challenged.status_code == 403
    body = challenged.get_json()
    assert body["error"] == "mfa_required" and body["error_description"]
    assert "access_token" not in body
    signed_in = otp_step(client, body["mfa_token"], code_at(secret, clock), path)
    assert signed_in.status_code == 200, signed_in.get_json()
    token = signed_in.get_json()["access_token"]
    assert client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_code_is_accepted_once(client, enrolled, clock):
    email, secret, _, _ = enrolled
    code = code_at(secret, clock)
    first = password_step(client, email).get_json()["mfa_token"]
    assert otp_step(client, first, code).status_code == 200
    second = password_step(client, email).get_json()["mfa_token"]
    replayed = otp_step(client, second, code)
    assert replayed.status_code == 400
    assert replayed.get_json()["error"] == "invalid_grant"


def test_the_mfa_token_is_single_use(client, enrolled, clock):
    email, secret, _, _ = enrolled
    mfa_token = password_step(client, email).get_json()["mfa_token"]
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 200
    clock.advance(30)
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 400


def test_the_mfa_token_expires_after_five_minutes(client, enrolled, clock):
    email, secret, _, _ = enrolled
    mfa_token = password_step(client, email).get_json()["mfa_token"]
    clock.advance(301)
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 400


def test_a_wrong_code_is_refused_and_the_mfa_token_survives_it(app, client, enrolled, clock):
    email, secret, _, _ = enrolled
    mfa_token = password_step(client, email).get_json()["mfa_token"]
    wrong = otp_step(
        client, mfa_token, "123456" if code_at(secret, clock) != "123456" else "654321"
    )
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 200
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    assert "sign_in.mfa_failed" in events


def test_an_invented_mfa_token_is_refused(client, enrolled, clock):
    _, secret, _, _ = enrolled
    assert otp_step(client, "made-up", code_at(secret, clock)).status_code == 400


def test_a_recovery_code_signs_in_once(app, client, enrolled):
    email, _, codes, _ = enrolled
    mfa_token = password_step(client, email).get_json()["mfa_token"]
    assert otp_step(client, mfa_token, codes[0].upper()).status_code == 200
    again = password_step(client, email).get_json()["mfa_token"]
    assert otp_step(client, again, codes[0]).status_code == 400
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    assert "mfa.recovery_code_used" in events


def test_the_two_step_sign_in_is_audited_once_with_its_second_factor(app, client, enrolled, clock):
    email, secret, _, _ = enrolled
    mfa_token = password_step(client, email).get_json()["mfa_token"]
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 200
    with app.app_context():
        user_id = db.session.scalar(
            select(User.id).where(User.email_index == index_of("email", email))
        )
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_id == user_id, AuditEvent.event.like("sign_in.%"))
            .order_by(AuditEvent.id)
        ).all()
        events = [(row.event, row.details) for row in rows]
    assert events[-2:] == [
        ("sign_in.password_accepted", {}),
        ("sign_in.succeeded", {"with": "totp"}),
    ]


def test_wrong_codes_count_toward_the_usernames_sign_in_throttle(make_app, auth, enrolled):
    email, _, _, _ = enrolled
    auth.citizen(email="bystander@example.org")
    throttled = make_app(
        RATELIMIT_SIGN_IN_PER_ADDRESS="100/minute", RATELIMIT_SIGN_IN_PER_USERNAME="3/15 minutes"
    ).test_client()
    mfa_token = password_step(throttled, email).get_json()["mfa_token"]  # does not count
    for _ in range(2):
        assert otp_step(throttled, mfa_token, "000000").status_code == 400
    wrong_password = throttled.post("/auth/token", data={"username": email, "password": "nope"})
    assert wrong_password.status_code == 400
    assert otp_step(throttled, mfa_token, "000000").status_code == 429
    assert password_step(throttled, email).status_code == 429
    assert password_step(throttled, "bystander@example.org").status_code == 200


def test_turning_it_off_needs_password_and_a_current_code(client, enrolled, clock):
    email, secret, _, headers = enrolled
    wrong = client.delete(
        "/users/me/mfa/totp",
        json={"current_password": DEFAULT_PASSWORD, "code": "000000"},
        headers=headers,
    )
    assert wrong.status_code == 400
    no_password = client.delete(
        "/users/me/mfa/totp",
        json={"current_password": "wrong password", "code": code_at(secret, clock)},
        headers=headers,
    )
    assert no_password.status_code == 400
    off = client.delete(
        "/users/me/mfa/totp",
        json={"current_password": DEFAULT_PASSWORD, "code": code_at(secret, clock)},
        headers=headers,
    )
    assert off.status_code == 204
    assert password_step(client, email).status_code == 200


def test_enrolling_again_while_on_is_a_conflict(client, enrolled):
    _, _, _, headers = enrolled
    response = client.post(
        "/users/me/mfa/totp", json={"current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert response.status_code == 409


@pytest.fixture
def staff_must_enrol(app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_STAFF_MFA", True)


def test_staff_are_refused_everything_but_enrolment_profile_and_sign_out(
    client, auth, staff_must_enrol
):
    _, headers = auth.admin()
    refused = client.get("/users", headers=headers)
    assert refused.status_code == 403
    assert "two-factor" in refused.get_json()["message"]
    assert client.get("/users/me", headers=headers).status_code == 200
    started = client.post(
        "/users/me/mfa/totp", json={"current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert started.status_code == 201
    assert client.post("/auth/logout", headers=headers).status_code == 204


def test_staff_pass_once_enrolled(client, auth, clock, staff_must_enrol):
    _, headers = auth.admin()
    enrol(client, headers, clock)
    assert client.get("/users", headers=headers).status_code == 200


def test_citizens_are_not_asked_to_enrol(client, auth, staff_must_enrol):
    _, headers = auth.citizen()
    assert client.get("/users/me/members", headers=headers).status_code == 200


def test_staff_mfa_is_required_by_default_in_production_only():
    from config import load_config

    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "sqlite://",
        "AUDIT_KEY": "y" * 40,
        "METRICS_TOKEN": "z" * 20,
        "DATA_ENCRYPTION_KEY": "dGVzdC1jb25maWctZGF0YS1rZXktMDEyMzQ1Njc4OWE=",
    }
    from config import generate_signing_key

    production["CERT_SIGNING_KEY"] = generate_signing_key()
    assert load_config(production)["REQUIRE_STAFF_MFA"] is True
    assert load_config({"APP_ENV": "testing"})["REQUIRE_STAFF_MFA"] is False
    assert load_config({**production, "REQUIRE_STAFF_MFA": "false"})["REQUIRE_STAFF_MFA"] is False


def test_reset_mfa_turns_it_off_for_a_locked_out_officer_and_is_audited(app, client, enrolled):
    email, _, _, _ = enrolled
    result = app.test_cli_runner().invoke(args=["users", "reset-mfa", "--email", email])
    assert result.exit_code == 0, result.output
    assert password_step(client, email).status_code == 200
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    assert "mfa.reset" in events and "mfa.enabled" in events


def test_reset_mfa_of_an_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(args=["users", "reset-mfa", "--email", "no@one.org"])
    assert result.exit_code != 0
