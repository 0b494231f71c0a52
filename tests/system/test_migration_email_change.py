"""Migration 0015_email_change: codes keep their rows up and down; email-change codes go down."""

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backend.extensions import db
from tests.factories import make_user

CODE = {"code_hash": "h" * 64, "failed_attempts": 2}


def _code(connection, user_id: int, purpose: str, **values) -> None:
    now = datetime.now(UTC)
    row = {**CODE, "user_id": user_id, "purpose": purpose, "created_at": now}
    row |= {"expires_at": now + timedelta(minutes=10), **values}
    columns = ", ".join(row)
    names = ", ".join(f":{key}" for key in row)
    connection.execute(text(f"INSERT INTO one_time_codes ({columns}) VALUES ({names})"), row)


def _codes(connection) -> list[tuple]:
    query = "SELECT purpose, failed_attempts FROM one_time_codes ORDER BY purpose"
    return [tuple(row) for row in connection.execute(text(query))]


def test_0015_upgrades_filled_code_rows_and_downgrades_without_email_change_codes(app):
    with app.app_context():
        user_id = make_user().id
        db.session.remove()  # no transaction of ours may hold a lock the downgrade waits for
        try:
            downgrade(revision="0014_sessions")
            with db.engine.begin() as connection:
                _code(connection, user_id, "password_reset")
            upgrade(revision="0015_email_change")
            with db.engine.begin() as connection:
                assert _codes(connection) == [("password_reset", 2)]
                target = "SELECT target FROM one_time_codes"
                assert connection.execute(text(target)).scalar() is None
                _code(connection, user_id, "email_change", target="new@example.org")
            downgrade(revision="0014_sessions")
            columns = {
                column["name"] for column in inspect(db.engine).get_columns("one_time_codes")
            }
            assert "target" not in columns
            with db.engine.begin() as connection:
                assert _codes(connection) == [("password_reset", 2)]
        finally:
            upgrade()
