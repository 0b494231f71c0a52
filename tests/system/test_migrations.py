"""Migrations build the schema from nothing, match the models exactly, and unwind cleanly."""

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backend.extensions import db
from tests.tampering import GENESIS_HASH, chain_holds, keyed, plain_sha256, tamper


def test_downgrade_to_base_and_upgrade_again_matches_the_models(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def audit_head(app) -> str:
    with app.app_context():
        return db.session.scalar(text("SELECT last_hash FROM audit_head"))


def plain_chain_at_0005(app, client, auth) -> None:
    """Events as the code before revision 0006 wrote them: chained with plain SHA-256."""
    auth.citizen(email="before@example.org")
    for _ in range(3):
        client.post("/auth/token", data={"username": "before@example.org", "password": "no no"})
    with app.app_context():
        downgrade(revision="0005")
        tamper("SELECT 1", rechain_with=plain_sha256)
        assert chain_holds(plain_sha256)


def test_0006_keys_a_plain_chain_and_verify_accepts_it(app, client, auth):
    plain_chain_at_0005(app, client, auth)
    with app.app_context():
        upgrade()
        assert chain_holds(keyed(app.config["AUDIT_KEY"]))
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact: 4 events" in verified.output, verified.output


def test_0006_downgrade_restores_the_plain_chain(app, client, auth):
    auth.citizen(email="after@example.org")
    client.post("/auth/token", data={"username": "after@example.org", "password": "no no"})
    with app.app_context():
        downgrade(revision="0005")
        assert chain_holds(plain_sha256)
        last = db.session.scalar(text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1"))
        db.session.remove()
        upgrade()
    assert audit_head(app) != last
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_0006_refuses_to_key_a_chain_that_is_already_broken(app, client, auth, capsys):
    """Keying a tampered chain would launder the change: the upgrade stops and says where."""
    plain_chain_at_0005(app, client, auth)
    with app.app_context():
        tamper("UPDATE audit_events SET client_address = '10.6.6.6' WHERE id = 2")
        with pytest.raises(SystemExit):  # Flask-Migrate logs the reason and exits 1
            upgrade()
        assert "audit chain broken at event #2" in capsys.readouterr().err
        tamper("DELETE FROM audit_events")
        db.session.execute(text(f"UPDATE audit_head SET last_hash = '{GENESIS_HASH}'"))
        db.session.commit()
        upgrade()


def _insert(connection, table: str, **values) -> int:
    columns = ", ".join(values)
    names = ", ".join(f":{key}" for key in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({names}) RETURNING id")
    return connection.execute(statement, values).scalar_one()


def _fill_before_appointments(connection) -> dict:
    """Rows as the schema at 0006 holds them: an account, a center, registrations."""
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


def test_0007_upgrades_a_filled_database_and_downgrades_cleanly(app):
    with app.app_context():
        try:
            downgrade(revision="0006")
            with db.engine.begin() as connection:
                rows = _fill_before_appointments(connection)
            upgrade(revision="0007")
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
            downgrade(revision="0006")
            tables = set(inspect(db.engine).get_table_names())
            assert not tables & {"members", "vaccination_sessions", "appointments"}
            columns = {column["name"] for column in inspect(db.engine).get_columns("vaccines")}
            assert "min_age" not in columns
            with db.engine.connect() as connection:
                count = connection.execute(text("SELECT count(*) FROM vaccinations")).scalar()
            assert count == 2
        finally:
            upgrade()
