"""Routes of backend/auth/session_routes.py: one's sign-in sessions, seen and ended."""

from datetime import timedelta

from sqlalchemy import func, select

from backend import clock as app_clock
from backend import notify
from backend.extensions import db
from backend.models import AuditEvent, SignInSession
from tests.api.test_mfa import clock, code_at, enrolled, otp_step, password_step  # noqa: F401
from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of

# --- Sign-in sessions: list and end one's own, sign out everywhere else, an admin ending all, and


def sign_in(client, email: str, user_agent: str = "Laptop/1.0", address: str = "127.0.0.1"):
    """Headers of a new session from the client (user agent, address) given."""
    response = client.post(
        "/auth/token",
        data={"username": email, "password": DEFAULT_PASSWORD},
        headers={"User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def listed(client, headers) -> list[dict]:
    response = client.get("/users/me/sessions", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_ended(client, headers) -> None:
    response = client.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def settled() -> None:
    """Let the background jobs (the new-client check, then its delivery) finish."""
    notify.drain()
    notify.drain()


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)).all()


def test_the_list_shows_each_session_and_which_is_current(client, auth):
    _, laptop = auth.citizen(email="lister@example.org")
    phone = sign_in(client, "lister@example.org", "Phone/1.0", "203.0.113.7")
    sessions = listed(client, phone)
    assert [session["current"] for session in sessions] == [True, False]
    newest = sessions[0]
    assert newest["user_agent"] == "Phone/1.0" and newest["client_address"] == "203.0.113.7"
    assert {"id", "issued_at", "last_seen_at", "expires_at"} <= newest.keys()
    assert [session["current"] for session in listed(client, laptop)] == [False, True]


def test_the_mfa_sign_in_through_the_prototypes_login_starts_one_session(client, request):
    email, secret, _, _ = request.getfixturevalue("enrolled")  # tests/test_mfa.py's fixtures
    code = code_at(secret, request.getfixturevalue("clock"))
    mfa_token = password_step(client, email, "/login").get_json()["mfa_token"]
    response = otp_step(client, mfa_token, code, "/login")
    assert response.status_code == 200, response.get_json()
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert [session["current"] for session in listed(client, headers)] == [True, False]


def test_the_list_needs_a_token(client):
    response = client.get("/users/me/sessions")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_ending_a_session_refuses_its_token_at_once(client, auth):
    _, laptop = auth.citizen(email="ender@example.org")
    phone = sign_in(client, "ender@example.org", "Phone/1.0")
    phone_id = listed(client, phone)[0]["id"]
    assert client.delete(f"/users/me/sessions/{phone_id}", headers=laptop).status_code == 204
    assert_ended(client, phone)
    assert [session["id"] for session in listed(client, laptop)] != [phone_id]
    assert len(listed(client, laptop)) == 1


def test_ending_someone_elses_session_is_404_and_leaves_it(client, auth):
    _, mine = auth.citizen(email="mine@example.org")
    _, theirs = auth.citizen(email="theirs@example.org")
    their_id = listed(client, theirs)[0]["id"]
    response = client.delete(f"/users/me/sessions/{their_id}", headers=mine)
    assert response.status_code == 404 and response.get_json()["code"] == 404
    assert client.get("/users/me", headers=theirs).status_code == 200
    assert client.delete("/users/me/sessions/999999", headers=mine).status_code == 404


def test_an_ended_session_cannot_be_ended_again(client, auth):
    _, laptop = auth.citizen(email="twice.ended@example.org")
    phone = sign_in(client, "twice.ended@example.org", "Phone/1.0")
    phone_id = listed(client, phone)[0]["id"]
    assert client.delete(f"/users/me/sessions/{phone_id}", headers=laptop).status_code == 204
    assert client.delete(f"/users/me/sessions/{phone_id}", headers=laptop).status_code == 404


def test_logout_ends_the_current_session_only(client, auth):
    _, laptop = auth.citizen(email="leaver@example.org")
    phone = sign_in(client, "leaver@example.org", "Phone/1.0")
    assert client.post("/auth/logout", headers=phone).status_code == 204
    assert_ended(client, phone)
    assert [session["user_agent"] for session in listed(client, laptop)] != ["Phone/1.0"]


def test_logout_all_ends_every_other_session_and_keeps_the_current(client, auth):
    _, laptop = auth.citizen(email="everywhere@example.org")
    phone = sign_in(client, "everywhere@example.org", "Phone/1.0")
    tablet = sign_in(client, "everywhere@example.org", "Tablet/1.0")
    response = client.post("/auth/logout-all", headers=laptop)
    assert response.status_code == 200 and response.get_json() == {"ended": 2}
    assert_ended(client, phone)
    assert_ended(client, tablet)
    assert [session["current"] for session in listed(client, laptop)] == [True]


def test_an_admin_ends_every_session_of_an_account(app, client, auth):
    user_id, laptop = auth.citizen(email="ended.by.admin@example.org")
    phone = sign_in(client, "ended.by.admin@example.org", "Phone/1.0")
    _, admin = auth.admin()
    response = client.delete(f"/users/{user_id}/sessions", headers=admin)
    assert response.status_code == 200 and response.get_json() == {"ended": 2}
    assert_ended(client, laptop)
    assert_ended(client, phone)
    assert client.get("/users/me", headers=admin).status_code == 200
    [event] = events(app, "sessions.ended_by_admin")
    assert event.subject_id == user_id and event.details == {"ended": 2}


def test_only_admins_end_an_accounts_sessions(client, auth):
    user_id, headers = auth.citizen()
    _, other = auth.citizen()
    assert client.delete(f"/users/{user_id}/sessions", headers=other).status_code == 403
    assert client.get("/users/me", headers=headers).status_code == 200


def test_ending_the_sessions_of_an_unknown_account_is_404(client, auth):
    _, admin = auth.admin()
    assert client.delete("/users/999999/sessions", headers=admin).status_code == 404


def test_a_password_change_leaves_only_the_current_session_listed(client, auth):
    _, laptop = auth.citizen(email="changing@example.org")
    phone = sign_in(client, "changing@example.org", "Phone/1.0")
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "a fresh passphrase"}
    assert client.put("/users/me/password", json=body, headers=laptop).status_code == 204
    assert [session["current"] for session in listed(client, laptop)] == [True]
    assert_ended(client, phone)


def test_last_seen_is_written_at_most_once_a_minute(client, auth, monkeypatch, long_lived_tokens):
    _, headers = auth.citizen()
    [session] = listed(client, headers)
    start = app_clock.utcnow()
    monkeypatch.setattr(app_clock, "utcnow", lambda: start + timedelta(seconds=50))
    assert listed(client, headers)[0]["last_seen_at"] == session["last_seen_at"]
    monkeypatch.setattr(app_clock, "utcnow", lambda: start + timedelta(seconds=70))
    client.get("/users/me", headers=headers)
    seen = listed(client, headers)[0]["last_seen_at"]
    assert seen != session["last_seen_at"]
    monkeypatch.setattr(app_clock, "utcnow", lambda: start + timedelta(seconds=100))
    assert listed(client, headers)[0]["last_seen_at"] == seen


def test_requests_add_no_rows(app, client, auth):
    _, headers = auth.citizen()
    for _ in range(5):
        assert client.get("/users/me", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 1


def test_a_new_client_is_noticed_once_by_email_and_sms(app, client, auth, mailbox, sms):
    auth.citizen(email="noticed@example.org", verified=True, phone_number="+8801712345678")
    settled()
    assert mailbox.messages == [] and sms.received == []  # the first sign-in is not noticed
    sign_in(client, "noticed@example.org", "Phone/1.0", "198.51.100.4")
    [message] = mailbox.wait_for("noticed@example.org")
    assert "198.51.100.4" in body_of(message) and "Phone/1.0" in body_of(message)
    settled()
    assert [text["to"] for text in sms.received] == ["+8801712345678"]
    sign_in(client, "noticed@example.org", "Phone/1.0", "198.51.100.4")
    settled()
    assert len(mailbox.messages) == 1 and len(sms.received) == 1
    [event] = events(app, "sign_in.new_client")
    assert event.details == {"client_address": "198.51.100.4", "user_agent": "Phone/1.0"}


def test_a_known_client_is_not_noticed(client, auth, mailbox):
    auth.citizen(email="known@example.org")
    sign_in(client, "known@example.org", "Werkzeug/known")
    mailbox.wait_for("known@example.org")
    sign_in(client, "known@example.org", "Werkzeug/known")
    settled()
    assert len(mailbox.messages) == 1


def test_a_known_client_that_was_not_the_last_is_not_noticed(client, auth, mailbox):
    auth.citizen(email="two.devices@example.org")
    for user_agent in ("Laptop/1.0", "Phone/1.0"):  # each new: noticed
        sign_in(client, "two.devices@example.org", user_agent)
    assert len(mailbox.wait_for("two.devices@example.org", count=2)) == 2
    for user_agent in ("Laptop/1.0", "Phone/1.0"):  # each seen, though not in the last session
        sign_in(client, "two.devices@example.org", user_agent)
    settled()
    assert len(mailbox.messages) == 2


def test_the_notice_carries_no_token_or_password(client, auth, mailbox, sms):
    auth.citizen(email="secretless@example.org", verified=True)
    headers = sign_in(client, "secretless@example.org", "Phone/1.0")
    text = body_of(mailbox.wait_for("secretless@example.org")[0])
    settled()
    token = headers["Authorization"].removeprefix("Bearer ")
    for secret in (token, token.split(".")[2], DEFAULT_PASSWORD):
        assert secret not in text
        assert all(secret not in message["message"] for message in sms.received)


def test_a_client_unseen_for_ninety_days_is_noticed_again(
    client, auth, mailbox, monkeypatch, long_lived_tokens
):
    auth.citizen(email="returning@example.org")
    later = app_clock.utcnow() + timedelta(days=91)
    monkeypatch.setattr(app_clock, "utcnow", lambda: later)
    auth.token("returning@example.org")  # the client of the first sign-in
    assert len(mailbox.wait_for("returning@example.org")) == 1
