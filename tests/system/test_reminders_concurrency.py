"""Two `flask reminders send` runs at once (two cron hosts) send each reminder exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from threading import Barrier

from backend import notify, reminders
from backend.extensions import db
from backend.models import Reminder
from tests.factories import make_dose, make_user

PEOPLE = 40


def due_second_doses(app, people: int) -> None:
    with app.app_context():
        for _ in range(people):
            make_dose(make_user(), given=date.today() - timedelta(days=60))


def test_two_runs_at_once_send_each_reminder_once(app, postgres_url, monkeypatch):
    due_second_doses(app, PEOPLE)
    monkeypatch.setattr(reminders, "BATCH", 4)  # many batches, so the runs overlap on several
    sent: list[str] = []
    monkeypatch.setattr(notify, "send", lambda **message: sent.append(message["email"]))
    start = Barrier(2)

    def run(_):
        with app.app_context():
            start.wait()
            return [due.key for due in reminders.send_due()]

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, range(2))
    assert not set(first) & set(second)
    assert len(first) + len(second) == PEOPLE
    assert len(sent) == len(set(sent)) == PEOPLE
    with app.app_context():
        assert db.session.query(Reminder).count() == PEOPLE


def test_a_run_after_two_racing_runs_sends_nothing(app, postgres_url, monkeypatch):
    due_second_doses(app, 6)
    monkeypatch.setattr(notify, "send", lambda **message: None)
    start = Barrier(2)

    def run(_):
        with app.app_context():
            start.wait()
            return len(list(reminders.send_due()))

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(run, range(2))) == 6
    with app.app_context():
        assert list(reminders.send_due()) == []
