"""State lives in the database: any worker of any instance agrees on codes and sign-outs."""

import random
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from sqlalchemy import select, text, update

from backend.auth.codes import issue_code
from backend.extensions import db
from backend.models import CodePurpose, OneTimeCode, User
from backend.privacy.fields import index_of
from tests.conftest import DEFAULT_PASSWORD
from tests.outbox import body_of, code_in
from tests.server import gunicorn, request


@pytest.fixture(scope="module")
def server(app, database_url, mail_server):
    """One four-worker gunicorn for the module (a start costs seconds of CPU): it mails through
    the test's SMTP server and signs codes with the test app's SECRET_KEY (their HMAC key)."""
    if not database_url.startswith("postgres"):
        pytest.skip("multi-worker tests run on PostgreSQL (set TEST_DATABASE_URL)")
    controller, _ = mail_server
    settings = {
        "MAIL_SERVER": controller.hostname,
        "MAIL_PORT": str(controller.port),
        "SECRET_KEY": app.config["SECRET_KEY"],
    }
    with gunicorn(database_url, workers=4, **settings) as base:
        yield base


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


def test_recovery_flow_across_workers(auth, mailbox, server):
    auth.citizen(email="across@example.org")
    status, _ = request("POST", f"{server}/auth/password/forgot", {"email": "across@example.org"})
    assert status == 202
    code = code_in(body_of(mailbox.wait_for("across@example.org")[-1]))
    # Each request opens a new connection, so the workers take turns serving the steps.
    for _ in range(3):
        status, _ = request(
            "POST",
            f"{server}/auth/password/verify",
            {"email": "across@example.org", "code": code},
        )
        assert status == 200
    body = {"email": "across@example.org", "code": code, "new_password": "changed passphrase"}
    assert request("POST", f"{server}/auth/password/reset", body)[0] == 204
    assert request("POST", f"{server}/auth/password/reset", body)[0] == 400
    sign_in(server, "across@example.org", "changed passphrase")


def test_logout_is_refused_by_every_worker(auth, server):
    auth.citizen(email="signout@example.org")
    headers = sign_in(server, "signout@example.org", DEFAULT_PASSWORD)
    assert request("GET", f"{server}/users/me", headers=headers)[0] == 200
    assert request("POST", f"{server}/auth/logout", headers=headers)[0] == 204
    statuses = {request("GET", f"{server}/users/me", headers=headers)[0] for _ in range(12)}
    assert statuses == {401}


def code_with_one_guess_left(app, email: str) -> str:
    """A fresh reset code for `email` after 4 of its 5 wrong guesses."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email_index == index_of("email", email)))
        code = issue_code(user, CodePurpose.PASSWORD_RESET)
        db.session.execute(update(OneTimeCode).values(failed_attempts=4))
        db.session.commit()
    return code


def stored_failed_attempts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(OneTimeCode.failed_attempts))


def wrong_codes(code: str, count: int) -> list[str]:
    """`count` distinct six-digit codes, none of them `code` (numbers from it on shift by one)."""
    return [f"{n + (n >= int(code)):06d}" for n in random.sample(range(10**6 - 1), count)]


def test_concurrent_guesses_stay_within_the_five_guess_budget(app, auth, server):
    auth.citizen(email="burst@example.org")
    with ThreadPoolExecutor(16) as pool:

        def verify(code):
            body = {"email": "burst@example.org", "code": code}
            return request("POST", f"{server}/auth/password/verify", body)[0]

        list(pool.map(verify, ["123456"] * 16))  # every worker warm (no code yet: all 400)
        # A guess still in flight holds the code's row: no other guess may be compared before
        # it is counted, so none is answered meanwhile (the old code answered the right one).
        code = code_with_one_guess_left(app, "burst@example.org")
        wrong_guesses = wrong_codes(code, 12)  # ready before the row is held (5 s timeout)
        with app.app_context(), db.engine.connect() as holder:
            holder.execute(text("SELECT 1 FROM one_time_codes FOR UPDATE"))
            right = [pool.submit(verify, code) for _ in range(4)]  # one for each worker
            time.sleep(0.2)
            wrong = [pool.submit(verify, guess) for guess in wrong_guesses]
            done, _ = wait([*right, *wrong], timeout=2)
            assert not done, "a guess was answered before it was counted"
            holder.rollback()
        assert {future.result() for future in wrong} == {400}
        assert stored_failed_attempts(app) == 5

        for _ in range(3):  # bursts of one right guess among fifteen wrong ones, with 1 left
            code = code_with_one_guess_left(app, "burst@example.org")
            guesses = [code, *wrong_codes(code, 15)]
            random.shuffle(guesses)
            statuses = list(pool.map(verify, guesses))
            assert statuses.count(200) <= 1 and statuses.count(400) >= 15
            assert stored_failed_attempts(app) == 5
