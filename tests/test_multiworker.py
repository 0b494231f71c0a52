"""State lives in the database: any worker of any instance agrees on codes and sign-outs."""

import urllib.parse
import urllib.request

from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of, code_in
from tests.server import gunicorn, request


def sign_in(base: str, email: str, password: str) -> dict:
    form = urllib.parse.urlencode({"username": email, "password": password}).encode()
    status, body = request(
        "POST",
        f"{base}/auth/token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=form,
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_recovery_flow_across_workers(auth, mail_server, mailbox, postgres_url):
    controller, _ = mail_server
    auth.citizen(email="across@example.org")
    mail = {"MAIL_SERVER": controller.hostname, "MAIL_PORT": str(controller.port)}
    with gunicorn(postgres_url, workers=3, **mail) as base:
        status, _ = request("POST", f"{base}/auth/password/forgot", {"email": "across@example.org"})
        assert status == 202
        code = code_in(body_of(mailbox.wait_for("across@example.org")[-1]))
        # Each request opens a new connection, so the workers take turns serving the steps.
        for _ in range(3):
            status, _ = request(
                "POST",
                f"{base}/auth/password/verify",
                {"email": "across@example.org", "code": code},
            )
            assert status == 200
        body = {"email": "across@example.org", "code": code, "new_password": "changed passphrase"}
        assert request("POST", f"{base}/auth/password/reset", body)[0] == 204
        assert request("POST", f"{base}/auth/password/reset", body)[0] == 400
        sign_in(base, "across@example.org", "changed passphrase")


def test_logout_is_refused_by_every_worker(auth, postgres_url):
    auth.citizen(email="signout@example.org")
    with gunicorn(postgres_url, workers=3) as base:
        headers = sign_in(base, "signout@example.org", DEFAULT_PASSWORD)
        assert request("GET", f"{base}/users/me", headers=headers)[0] == 200
        assert request("POST", f"{base}/auth/logout", headers=headers)[0] == 204
        statuses = {request("GET", f"{base}/users/me", headers=headers)[0] for _ in range(12)}
        assert statuses == {401}
