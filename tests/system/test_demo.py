"""`flask demo seed`: bulk demo data that the API then serves like any other."""

from datetime import date

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Center, Status, User, Vaccination


def seed(app, *args: str):
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


def count(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


def test_seed_adds_citizens_centers_and_registrations(app):
    result = seed(app, "--users", "6", "--vaccinations", "20", "--centers", "4")
    assert result.exit_code == 0, result.output
    assert count(app, select(func.count()).select_from(User)) == 6
    assert count(app, select(func.count()).select_from(Center)) == 4
    assert count(app, select(func.count()).select_from(Vaccination)) == 20


def test_seeding_twice_adds_and_keeps_one_pending_registration_per_citizen(app):
    assert seed(app, "--users", "6", "--vaccinations", "6", "--centers", "2").exit_code == 0
    assert seed(app, "--users", "6", "--vaccinations", "30", "--centers", "2").exit_code == 0
    assert count(app, select(func.count()).select_from(User)) == 12
    pending = select(Vaccination.user_id).where(Vaccination.status == Status.PENDING)
    assert count(app, select(func.count()).select_from(pending.subquery())) == 4
    assert count(app, pending.group_by(Vaccination.user_id).having(func.count() > 1)) is None


def test_seeded_citizens_sign_in_with_the_seed_password(app, client):
    assert seed(app, "--users", "2", "--vaccinations", "0", "--centers", "1").exit_code == 0
    with app.app_context():
        email = db.session.scalar(select(User.email).limit(1))
    response = client.post(
        "/auth/token", data={"username": email, "password": "demo-password-2024"}
    )
    assert response.status_code == 200


def test_registrations_need_a_citizen_and_a_center(app):
    result = seed(app, "--users", "0", "--vaccinations", "5", "--centers", "0")
    assert result.exit_code != 0 and "at least one citizen" in result.output


def test_sessions_fill_each_day_and_runs_add_up(app, client):
    assert seed(app, "--users", "0", "--vaccinations", "0", "--centers", "3").exit_code == 0
    first = app.test_cli_runner().invoke(args=["demo", "sessions", "--count", "20"])
    second = app.test_cli_runner().invoke(args=["demo", "sessions", "--count", "5"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    page = client.get("/sessions", query_string={"page_size": 100})
    sessions = page.get_json()
    assert len(sessions) == 25 and all(s["available"] == 100 for s in sessions)
    days = sorted({s["date"] for s in sessions})
    # 3 centers x the seeded vaccines a day; the second run starts on the day after the first's
    assert len(days) >= 2 and days[0] > str(date.today())
