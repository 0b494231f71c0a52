"""Migrations build the schema from nothing, match the models exactly, and unwind cleanly."""

from datetime import UTC, date, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backend.extensions import db


def test_downgrade_to_base_and_upgrade_again_matches_the_models(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def _insert(connection, table: str, **values) -> int:
    columns = ", ".join(values)
    names = ", ".join(f":{key}" for key in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({names}) RETURNING id")
    return connection.execute(statement, values).scalar_one()


def _fill_0005(connection) -> dict:
    """Rows as the schema before appointments holds them: an account, a center, registrations."""
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    user = {"password_hash": "x", "role_id": 1, "verified": False, "token_version": 0}
    user_id = _insert(
        connection,
        "users",
        name="Old",
        email="old@example.org",
        nid="1234567890",
        created_at=now,
        updated_at=now,
        **user,
    )
    center_id = _insert(
        connection,
        "centers",
        name="C",
        city="Dhaka",
        city_key="dhaka",
        address="A",
        active=True,
        created_at=now,
    )
    vaccine_id = connection.execute(text("SELECT id FROM vaccines WHERE name = 'Pfizer'")).scalar()
    rows = {"user_id": user_id, "center_id": center_id, "vaccine_id": vaccine_id}
    for status in ("approved", "pending"):
        vaccination_id = _insert(
            connection, "vaccinations", dose_number=1, status=status, created_at=now, **rows
        )
    # A certificate points at a registration: rebuilding that table must keep it valid.
    certificate = {"token": "t", "key_id": "k", "issued_at": now}
    _insert(connection, "certificates", id="C1", vaccination_id=vaccination_id, **certificate)
    return rows


def test_0006_upgrades_a_filled_database_and_downgrades_cleanly(app):
    with app.app_context():
        try:
            downgrade(revision="0005")
            with db.engine.begin() as connection:
                rows = _fill_0005(connection)
            upgrade(revision="0006")
            with db.engine.begin() as connection:
                user = connection.execute(text("SELECT date_of_birth FROM users")).one()
                vaccine = connection.execute(
                    text("SELECT min_age, max_age, booster_interval_days FROM vaccines LIMIT 1")
                ).one()
                members = connection.execute(
                    text("SELECT count(*) FROM vaccinations WHERE member_id IS NOT NULL")
                ).scalar()
                session_id = _insert(
                    connection,
                    "vaccination_sessions",
                    center_id=rows["center_id"],
                    vaccine_id=rows["vaccine_id"],
                    date=date(2026, 12, 24),
                    city_key="dhaka",
                    capacity=5,
                    booked=0,
                    status="open",
                    created_at=datetime.now(UTC),
                )
            assert tuple(user) == (None,) and tuple(vaccine) == (18, None, None) and members == 0
            assert session_id
            downgrade(revision="0005")
            tables = set(inspect(db.engine).get_table_names())
            assert not tables & {"members", "vaccination_sessions", "appointments"}
            columns = {column["name"] for column in inspect(db.engine).get_columns("vaccines")}
            assert "min_age" not in columns
            with db.engine.connect() as connection:
                count = connection.execute(text("SELECT count(*) FROM vaccinations")).scalar()
            assert count == 2
        finally:
            upgrade()
