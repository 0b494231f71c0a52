"""The new-client sign-in notice is sent once per new client, however sign-ins of one account
and their checks interleave (backend/auth/new_client.py `check_client`)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from threading import Barrier, Event
from time import sleep

import pytest
from sqlalchemy import func, insert, select

from backend import clock, notify
from backend.auth import new_client
from backend.auth.new_client import check_client
from backend.extensions import db
from backend.models import AuditEvent, SignInSession
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import make_user

PHONE = ("Phone/1.0", "198.51.100.4")
TABLET = ("Tablet/2.0", "203.0.113.9")


def young_account(app) -> tuple[int, str]:
    """An account registered just now that has never signed in: its id and email."""
    with app.app_context():
        user = make_user()
        return user.id, user.email


def known_account(app, auth) -> tuple[int, str]:
    """An account with a sign-in behind it (from the test client): its id and email."""
    user_id, email = young_account(app)
    auth.headers(email)
    return user_id, email


def notices(app, user_id: int) -> int:
    """How many new-client notices the account was sent, once background jobs are done."""
    notify.drain()
    notify.drain()
    with app.app_context():
        query = select(func.count()).where(
            AuditEvent.event == "sign_in.new_client", AuditEvent.subject_id == user_id
        )
        return db.session.scalar(query)


def sign_ins_at_once(app, email: str, clients: list[tuple[str, str]]) -> None:
    """Sign in from each (user agent, address) in its own thread and test client, all at once."""
    start = Barrier(len(clients))

    def sign_in(user_agent_and_address: tuple[str, str]) -> int:
        user_agent, address = user_agent_and_address
        client = app.test_client()
        start.wait()
        return client.post(
            "/auth/token",
            data={"username": email, "password": DEFAULT_PASSWORD},
            headers={"User-Agent": user_agent},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        assert list(pool.map(sign_in, clients)) == [200] * len(clients)


@contextmanager
def session_row(app, user_id: int, client: tuple[str, str]):
    """A session row of the account from `client` (user agent, address), inserted on a
    connection of its own and committed when the block ends: its `jti`."""
    user_agent, address = client
    now = clock.utcnow()
    jti = secrets.token_urlsafe(24)
    row = {
        "user_id": user_id,
        "jti": jti,
        "issued_at": now,
        "expires_at": now + timedelta(minutes=15),
        "last_seen_at": now,
        "client_address": address,
        "user_agent": user_agent,
    }
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(insert(SignInSession).values(row))
        yield jti


def checked(app, user_id: int, *jtis: str) -> None:
    for jti in jtis:
        with app.app_context():
            check_client(user_id, jti)


# --- Real concurrency: sign-ins over HTTP released at once (PostgreSQL) ---


def test_two_sign_ins_from_one_new_client_at_once_send_one_notice(app, auth, postgres_url):
    user_id, email = known_account(app, auth)
    for n in range(1, 6):  # a client new to the account each time
        client = (f"Phone/{n}.0", PHONE[1])
        sign_ins_at_once(app, email, [client, client])
        assert notices(app, user_id) == n


def test_two_first_sign_ins_of_a_young_account_at_once_send_one_notice(app, postgres_url):
    for _ in range(5):
        user_id, email = young_account(app)
        sign_ins_at_once(app, email, [PHONE, TABLET])
        assert notices(app, user_id) == 1


# --- Forced interleavings: the lower id commits after the higher one's check (PostgreSQL: a
# --- second writer while the first holds its insert uncommitted) ---


def test_a_new_client_whose_first_row_commits_after_the_second_check_is_noticed_once(
    app, auth, postgres_url
):
    user_id, _ = known_account(app, auth)
    with session_row(app, user_id, PHONE) as lower:
        with session_row(app, user_id, PHONE) as higher:
            pass
        checked(app, user_id, higher)  # `lower` is not committed yet
    checked(app, user_id, lower)
    assert notices(app, user_id) == 1


def test_first_sign_ins_whose_first_row_commits_after_the_second_check_send_one_notice(
    app, postgres_url
):
    user_id, _ = young_account(app)
    with session_row(app, user_id, PHONE) as lower:
        with session_row(app, user_id, TABLET) as higher:
            pass
        checked(app, user_id, higher)  # `lower` is not committed yet
    checked(app, user_id, lower)
    assert notices(app, user_id) == 1


# --- Both rows committed before either check, checked in either order (both databases) ---


@pytest.mark.parametrize("lower_first", [True, False])
def test_two_committed_sessions_from_one_new_client_send_one_notice(app, auth, lower_first):
    user_id, _ = known_account(app, auth)
    with session_row(app, user_id, PHONE) as lower:
        pass
    with session_row(app, user_id, PHONE) as higher:
        pass
    checked(app, user_id, *((lower, higher) if lower_first else (higher, lower)))
    assert notices(app, user_id) == 1


@pytest.mark.parametrize("lower_first", [True, False])
def test_two_committed_first_sessions_of_a_young_account_send_one_notice(app, lower_first):
    user_id, _ = young_account(app)
    with session_row(app, user_id, PHONE) as lower:
        pass
    with session_row(app, user_id, TABLET) as higher:
        pass
    checked(app, user_id, *((lower, higher) if lower_first else (higher, lower)))
    assert notices(app, user_id) == 1


@pytest.mark.parametrize("lower_first", [True, False])
def test_two_committed_first_sessions_from_one_client_send_none(app, lower_first):
    user_id, _ = young_account(app)
    with session_row(app, user_id, PHONE) as lower:
        pass
    with session_row(app, user_id, PHONE) as higher:
        pass
    checked(app, user_id, *((lower, higher) if lower_first else (higher, lower)))
    assert notices(app, user_id) == 0


def test_a_profile_edit_during_the_check_neither_deadlocks_nor_loses_the_notice(
    app, auth, monkeypatch, postgres_url
):
    # The edit appends to the audit trail before it writes the account; the check, once it
    # holds its lock, appends too. With a row lock on the account the two waited on each other
    # (PostgreSQL broke the deadlock: a 503 for the edit, or no notice).
    user_id, email = known_account(app, auth)
    headers = auth.headers(email)
    with session_row(app, user_id, PHONE) as jti:
        pass
    appending = Event()
    real_record = new_client.record

    def slow_record(*args, **kwargs):
        appending.set()
        sleep(0.3)  # the edit runs meanwhile
        return real_record(*args, **kwargs)

    monkeypatch.setattr(new_client, "record", slow_record)

    def edit() -> int:
        appending.wait(5)
        response = app.test_client().patch("/users/me", json={"name": "New Name"}, headers=headers)
        return response.status_code

    with ThreadPoolExecutor(2) as pool:
        checking = pool.submit(checked, app, user_id, jti)
        editing = pool.submit(edit)
        checking.result(timeout=20)
        assert editing.result(timeout=20) == 200
    assert notices(app, user_id) == 1
