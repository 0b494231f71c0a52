"""Security notices: one message per event, to the right address, without secrets, audited."""

import pytest
from sqlalchemy import select

from backend import notify
from backend.auth.notices import NOTICES
from backend.extensions import db
from backend.models import AuditEvent
from tests.api.test_mfa import Clock, code_at, enrol, otp_step, password_step
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import make_center
from tests.outbox import body_of, code_in

PHONE = "+8801711000501"
NEW_PHONE = "+8801711000502"


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def settled() -> None:
    """Wait until every delivery is done: the queued jobs, then the sends they queued."""
    notify.drain()
    notify.drain()


def notices(mailbox, to: str, event: str) -> list[str]:
    """The bodies of the `event` notices emailed to `to` so far."""
    settled()
    subject = NOTICES[event][0]
    return [body_of(m) for m in mailbox.messages if m["To"] == to and m["Subject"] == subject]


def texts_to(sms, phone: str) -> list[str]:
    settled()
    return [message["message"] for message in sms.received if message["to"] == phone]


def audited(app, user_id: int) -> list[str]:
    """The notices recorded in the audit trail for the account, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == "security_notice.sent", AuditEvent.subject_id == user_id)
            .order_by(AuditEvent.id)
        )
        return [row.details["notice"] for row in rows]


def test_a_password_change_is_notified_once_by_email_and_sms(client, auth, mailbox, sms, app):
    user_id, headers = auth.citizen(email="pw@example.org", phone_number=PHONE, verified=True)
    change = {"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"}
    assert client.put("/users/me/password", json=change, headers=headers).status_code == 204
    (body,) = notices(mailbox, "pw@example.org", "password_changed")
    (text,) = texts_to(sms, PHONE)
    token = headers["Authorization"].split()[1]
    for secret in (DEFAULT_PASSWORD, "a brand new passphrase", token):
        assert secret not in body and secret not in text
    assert audited(app, user_id) == ["password_changed"]


def test_a_refused_password_change_is_not_notified(client, auth, mailbox, app):
    user_id, headers = auth.citizen(email="nopw@example.org")
    change = {"current_password": "not my password", "new_password": "a brand new passphrase"}
    assert client.put("/users/me/password", json=change, headers=headers).status_code == 400
    assert notices(mailbox, "nopw@example.org", "password_changed") == []
    assert audited(app, user_id) == []


def test_a_password_reset_is_notified_without_the_code(client, auth, mailbox, app):
    user_id, _ = auth.citizen(email="reset@example.org")
    client.post("/auth/password/forgot", json={"email": "reset@example.org"})
    code = code_in(body_of(mailbox.wait_for("reset@example.org")[-1]))
    reset = {"email": "reset@example.org", "code": code, "new_password": "another passphrase"}
    assert client.post("/auth/password/reset", json=reset).status_code == 204
    (body,) = notices(mailbox, "reset@example.org", "password_reset")
    assert code not in body and "another passphrase" not in body
    assert audited(app, user_id) == ["password_reset"]


def test_a_new_phone_is_notified_to_the_email_and_the_old_verified_phone(
    client, auth, mailbox, sms, app
):
    user_id, headers = auth.citizen(email="ph@example.org", phone_number=PHONE, verified=True)
    change = {"phone_number": NEW_PHONE, "current_password": DEFAULT_PASSWORD}
    assert client.patch("/users/me", json=change, headers=headers).status_code == 200
    assert len(notices(mailbox, "ph@example.org", "phone_changed")) == 1
    assert len(texts_to(sms, PHONE)) == 1
    assert texts_to(sms, NEW_PHONE) == []
    assert audited(app, user_id) == ["phone_changed"]


def test_an_unverified_old_phone_gets_no_sms(client, auth, mailbox, sms):
    _, headers = auth.citizen(email="unv@example.org", phone_number=PHONE, verified=False)
    change = {"phone_number": NEW_PHONE, "current_password": DEFAULT_PASSWORD}
    assert client.patch("/users/me", json=change, headers=headers).status_code == 200
    assert len(notices(mailbox, "unv@example.org", "phone_changed")) == 1
    assert texts_to(sms, PHONE) == [] and texts_to(sms, NEW_PHONE) == []


def test_an_admin_changing_the_phone_is_notified_too(client, auth, mailbox, app):
    _, admin = auth.admin()
    user_id, _ = auth.citizen(email="byadmin@example.org", phone_number=PHONE)
    change = {"phone_number": NEW_PHONE}
    assert client.patch(f"/users/{user_id}", json=change, headers=admin).status_code == 200
    assert len(notices(mailbox, "byadmin@example.org", "phone_changed")) == 1
    assert audited(app, user_id) == ["phone_changed"]


def test_other_profile_changes_send_no_notice(client, auth, mailbox, app):
    user_id, headers = auth.citizen(email="quiet@example.org", phone_number=PHONE)
    same_phone = {"name": "Quiet Person", "phone_number": PHONE}
    assert client.patch("/users/me", json=same_phone, headers=headers).status_code == 200
    settled()
    assert [m for m in mailbox.messages if m["To"] == "quiet@example.org"] == []
    assert audited(app, user_id) == []


def test_turning_two_factor_on_is_notified_without_its_secrets(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="on@example.org")
    secret, recovery_codes = enrol(client, headers, clock)
    (body,) = notices(mailbox, "on@example.org", "mfa_enabled")
    for value in (secret, *recovery_codes, DEFAULT_PASSWORD):
        assert value not in body
    assert audited(app, user_id) == ["mfa_enabled"]


def test_turning_two_factor_off_is_notified_once(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="off@example.org")
    secret, _ = enrol(client, headers, clock)
    clock.advance(30)
    body = {"current_password": DEFAULT_PASSWORD, "code": code_at(secret, clock)}
    assert client.delete("/users/me/mfa/totp", json=body, headers=headers).status_code == 204
    assert len(notices(mailbox, "off@example.org", "mfa_disabled")) == 1
    assert audited(app, user_id) == ["mfa_enabled", "mfa_disabled"]


def test_turning_off_with_a_recovery_code_sends_one_notice(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="offrc@example.org")
    _, recovery_codes = enrol(client, headers, clock)
    body = {"current_password": DEFAULT_PASSWORD, "code": recovery_codes[0]}
    assert client.delete("/users/me/mfa/totp", json=body, headers=headers).status_code == 204
    (text,) = notices(mailbox, "offrc@example.org", "mfa_disabled")
    assert recovery_codes[0] not in text
    assert audited(app, user_id) == ["mfa_enabled", "mfa_disabled"]


def test_a_recovery_code_sign_in_is_notified_without_the_code(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="rc@example.org")
    _, recovery_codes = enrol(client, headers, clock)
    mfa_token = password_step(client, "rc@example.org").get_json()["mfa_token"]
    assert otp_step(client, mfa_token, recovery_codes[3]).status_code == 200
    (body,) = notices(mailbox, "rc@example.org", "recovery_code_used")
    assert recovery_codes[3] not in body and mfa_token not in body
    assert audited(app, user_id) == ["mfa_enabled", "recovery_code_used"]


def test_a_totp_sign_in_sends_no_notice(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="totp@example.org")
    secret, _ = enrol(client, headers, clock)
    clock.advance(30)
    mfa_token = password_step(client, "totp@example.org").get_json()["mfa_token"]
    assert otp_step(client, mfa_token, code_at(secret, clock)).status_code == 200
    assert notices(mailbox, "totp@example.org", "recovery_code_used") == []
    assert audited(app, user_id) == ["mfa_enabled"]


def test_the_command_line_mfa_reset_is_notified(client, auth, mailbox, app, clock):
    user_id, headers = auth.citizen(email="cli@example.org")
    enrol(client, headers, clock)
    result = app.test_cli_runner().invoke(args=["users", "reset-mfa", "--email", "cli@example.org"])
    assert result.exit_code == 0, result.output
    assert len(notices(mailbox, "cli@example.org", "mfa_disabled")) == 1
    assert audited(app, user_id) == ["mfa_enabled", "mfa_disabled"]


def test_closing_ones_account_is_notified_to_the_contact_it_had(client, auth, mailbox, sms, app):
    user_id, headers = auth.citizen(email="bye@example.org", phone_number=PHONE, verified=True)
    body = {"password": DEFAULT_PASSWORD}
    assert client.delete("/users/me", json=body, headers=headers).status_code == 204
    (text,) = notices(mailbox, "bye@example.org", "account_closed")
    assert DEFAULT_PASSWORD not in text
    assert len(texts_to(sms, PHONE)) == 1
    assert audited(app, user_id) == ["account_closed"]


def test_an_admin_closing_an_account_is_notified(client, auth, mailbox, app):
    _, admin = auth.admin()
    user_id, _ = auth.citizen(email="closed@example.org")
    assert client.delete(f"/users/{user_id}", headers=admin).status_code == 204
    assert len(notices(mailbox, "closed@example.org", "account_closed")) == 1
    assert audited(app, user_id) == ["account_closed"]


def test_a_vaccinator_closed_by_an_admin_is_notified(client, auth, mailbox, app):
    with app.app_context():
        center_id = make_center().id
    _, admin = auth.admin()
    staff_id, _ = auth.vaccinator(center_id, email="staff@example.org")
    assert client.delete(f"/staff/{staff_id}", headers=admin).status_code == 204
    assert len(notices(mailbox, "staff@example.org", "account_closed")) == 1
    assert audited(app, staff_id) == ["account_closed"]
