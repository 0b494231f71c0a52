"""Migration 0017_notice_once: sessions gain `new_client` (NULL on the rows already there) and
lose it again, keeping their rows both ways."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backend import notify
from backend.extensions import db


def _columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("sessions")}


def test_0017_adds_new_client_to_existing_sessions_and_drops_it_again(app, auth):
    user_id, _ = auth.citizen()
    notify.drain()  # its new-client check writes to the row
    with app.app_context():
        db.session.remove()  # no transaction of ours may hold a lock the downgrade waits for
        try:
            downgrade(revision="0016_center")
            assert "new_client" not in _columns()
            upgrade(revision="0017_notice_once")
            with db.engine.begin() as connection:
                rows = connection.execute(text("SELECT user_id, new_client FROM sessions"))
                assert [tuple(row) for row in rows] == [(user_id, None)]
                connection.execute(text("UPDATE sessions SET new_client = 'first'"))
            downgrade(revision="0016_center")
            assert "new_client" not in _columns()
            with db.engine.begin() as connection:
                assert connection.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
        finally:
            upgrade()
