"""Ending a sign-in session is refused at once by every worker of every instance (PostgreSQL),
even by workers whose verified-token cache already holds the token."""

from contextlib import ExitStack

from tests.conftest import DEFAULT_PASSWORD
from tests.server import gunicorn, request
from tests.system.test_multiworker import sign_in

INSTANCES = 2
TRIES = 12  # per instance: each request opens a new connection, so the workers take turns


def statuses(bases: list[str], headers: dict) -> set[int]:
    return {
        request("GET", f"{base}/users/me", headers=headers)[0]
        for base in bases
        for _ in range(TRIES)
    }


def test_an_ended_session_is_refused_by_every_worker_and_instance(app, auth, postgres_url):
    auth.citizen(email="workers@example.org")
    secret = {"SECRET_KEY": app.config["SECRET_KEY"]}
    with ExitStack() as servers:
        bases = [
            servers.enter_context(gunicorn(postgres_url, workers=2, **secret))
            for _ in range(INSTANCES)
        ]
        laptop = sign_in(bases[0], "workers@example.org", DEFAULT_PASSWORD)
        phone = sign_in(bases[1], "workers@example.org", DEFAULT_PASSWORD)
        tablet = sign_in(bases[0], "workers@example.org", DEFAULT_PASSWORD)
        assert statuses(bases, phone) == {200}  # cached as verified by every worker
        status, listed = request("GET", f"{bases[1]}/users/me/sessions", headers=phone)
        assert status == 200
        [phone_id] = [session["id"] for session in listed if session["current"]]
        url = f"{bases[0]}/users/me/sessions/{phone_id}"
        assert request("DELETE", url, headers=laptop)[0] == 204
        assert statuses(bases, phone) == {401}
        assert statuses(bases, tablet) == {200}
        assert request("POST", f"{bases[1]}/auth/logout-all", headers=laptop)[0] == 200
        assert statuses(bases, tablet) == {401}
        assert statuses(bases, laptop) == {200}
