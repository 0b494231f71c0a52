"""Sign-out and password change: which tokens stop working."""

from tests.conftest import DEFAULT_PASSWORD


def test_logout_revokes_only_the_presented_token(client, auth):
    _, first = auth.citizen(email="two.devices@example.org")
    second = auth.headers("two.devices@example.org")
    assert client.post("/auth/logout", headers=first).status_code == 204
    assert client.get("/users/me", headers=first).status_code == 401
    assert client.post("/auth/logout", headers=first).status_code == 401
    assert client.get("/users/me", headers=second).status_code == 200


def test_password_change_signs_out_other_sessions_only(client, auth):
    _, current = auth.citizen(email="changer@example.org")
    other = auth.headers("changer@example.org")
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "a fresh passphrase"}
    assert client.put("/users/me/password", json=body, headers=current).status_code == 204
    assert client.get("/users/me", headers=current).status_code == 200
    assert client.get("/users/me", headers=other).status_code == 401
    old = client.post(
        "/auth/token", data={"username": "changer@example.org", "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 400
    assert auth.token("changer@example.org", "a fresh passphrase")


def test_password_change_with_a_wrong_current_password_is_400(client, auth):
    _, headers = auth.citizen()
    body = {"current_password": "not my password", "new_password": "a fresh passphrase"}
    assert client.put("/users/me/password", json=body, headers=headers).status_code == 400


def test_a_second_password_change_revokes_the_first_kept_session(client, auth):
    _, first = auth.citizen(email="twice@example.org")
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "second passphrase"}
    assert client.put("/users/me/password", json=body, headers=first).status_code == 204
    second = auth.headers("twice@example.org", "second passphrase")
    body = {"current_password": "second passphrase", "new_password": "third passphrase"}
    assert client.put("/users/me/password", json=body, headers=second).status_code == 204
    assert client.get("/users/me", headers=first).status_code == 401
    assert client.get("/users/me", headers=second).status_code == 200


def test_prune_removes_only_old_sessions_and_dead_codes(client, app, auth, mailbox, monkeypatch):
    from datetime import timedelta

    from backend import clock

    _, headers = auth.citizen(email="pruned@example.org")
    assert client.post("/auth/logout", headers=headers).status_code == 204
    client.post("/auth/password/forgot", json={"email": "pruned@example.org"})
    mailbox.wait_for("pruned@example.org")  # the code is issued in the background
    runner = app.test_cli_runner()
    assert "pruned 0 old sessions and 0" in runner.invoke(args=["prune"]).output
    now = clock.utcnow()
    monkeypatch.setattr(clock, "utcnow", lambda: now + timedelta(hours=2))
    # An ended, expired session is kept for the new-client check until 90 days have passed.
    assert "pruned 0 old sessions and 1" in runner.invoke(args=["prune"]).output
    monkeypatch.setattr(clock, "utcnow", lambda: now + timedelta(days=91))
    assert "pruned 1 old sessions and 0" in runner.invoke(args=["prune"]).output
