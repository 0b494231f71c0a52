"""The rush: many concurrent bookings for a session's last places, across gunicorn workers and
instances on PostgreSQL, give exactly as many appointments as places and a clean `full` to the
rest."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from threading import Event

from sqlalchemy import func, insert, select

from backend.auth.tokens import issue_access_token
from backend.extensions import db
from backend.models import Appointment, Status, User, Vaccination, VaccinationSession
from tests.factories import make_center, make_session
from tests.server import gunicorn, request

ATTEMPTS = 400
PLACES_LEFT = 10
CAPACITY = 50
INSTANCES = 2


def citizens_with_tokens(count: int) -> list[dict]:
    """`count` adults, inserted in one statement (no password hashing), and their headers."""
    now = datetime.now(UTC)
    rows = [
        {
            "name": f"Rush {n}",
            "email": f"rush{n}@example.org",
            "password_hash": "!unused",
            "role_id": 1,
            "nid": f"{3000000000 + n}",
            "date_of_birth": date(1980, 1, 1),
            "verified": False,
            "token_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    ids = db.session.scalars(insert(User).returning(User.id), rows).all()
    db.session.commit()
    tokens = (issue_access_token(user_id, 0)[0] for user_id in ids)
    return [{"Authorization": f"Bearer {token}"} for token in tokens]


def test_four_hundred_attempts_for_the_last_ten_places(app, postgres_url):
    with app.app_context():
        session_id = make_session(
            center_id=make_center().id,
            date=date.today() + timedelta(days=7),
            capacity=CAPACITY,
            booked=CAPACITY - PLACES_LEFT,
        ).id
        people = citizens_with_tokens(ATTEMPTS)
    settings = {"SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_POOL_SIZE": "8"}
    start = Event()
    with ExitStack() as servers, ThreadPoolExecutor(INSTANCES) as booting:
        # Two instances of two workers each, booted side by side.
        instances = list(
            booting.map(
                lambda _: servers.enter_context(gunicorn(postgres_url, workers=2, **settings)),
                range(INSTANCES),
            )
        )

        def attempt(n: int):
            start.wait()
            url = f"{instances[n % INSTANCES]}/appointments"
            return request("POST", url, {"session_id": session_id}, people[n])

        with ThreadPoolExecutor(64) as pool:
            answers = [pool.submit(attempt, n) for n in range(ATTEMPTS)]
            start.set()
            answers = [answer.result() for answer in answers]
    outcomes = Counter(
        (status, body.get("reason") if status == 409 else None) for status, body in answers
    )
    assert outcomes == {(201, None): PLACES_LEFT, (409, "full"): ATTEMPTS - PLACES_LEFT}
    with app.app_context():
        assert db.session.get(VaccinationSession, session_id).booked == CAPACITY
        assert db.session.scalar(select(func.count()).select_from(Appointment)) == PLACES_LEFT
        pending = select(func.count()).where(Vaccination.status == Status.PENDING)
        assert db.session.scalar(pending) == PLACES_LEFT
