"""Migration 0013_encryption: clear rows (more than one batch) come out encrypted and indexed,
the service reads them and signs in with them; the downgrade gives the clear values back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from backend.auth.passwords import hash_password
from backend.extensions import db
from backend.models import Member, User
from backend.privacy.fields import index_of
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import registration

PEOPLE = 520  # more than the migration's batch of 500
NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
INDEXED = (("nid", "nid"), ("phone", "phone_number"), ("email", "email"))


def person(n: int) -> dict:
    return {
        "name": f"Before {n}",
        "email": f"before{n}@example.org",
        "nid": f"{7000000000 + n}",
        "phone_number": f"+88017{n:08d}",
        "address": f"{n} Clear Text Road",
        "date_of_birth": date(1960, 1, 1 + n % 28),
    }


def _insert(connection, table: str, **values) -> int:
    columns, names = ", ".join(values), ", ".join(f":{key}" for key in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({names}) RETURNING id")
    return connection.execute(statement, values).scalar_one()


def fill_at_0012(password_hash: str) -> None:
    """Rows as the schema at 0012 holds them, every personal value in clear."""
    fixed = {"role_id": 1, "verified": True, "token_version": 0, "mfa_enabled": False}
    stamps = {"created_at": NOW, "updated_at": NOW}
    with db.engine.begin() as connection:
        users = [{**person(n), **fixed, **stamps, "password_hash": "x"} for n in range(PEOPLE)]
        users[0]["password_hash"] = password_hash
        columns = ", ".join(users[0])
        names = ", ".join(f":{key}" for key in users[0])
        connection.execute(text(f"INSERT INTO users ({columns}) VALUES ({names})"), users)
        holder = connection.execute(text("SELECT min(id) FROM users")).scalar()
        _insert(
            connection,
            "members",
            user_id=holder,
            name="Kin",
            nid="8000000001",
            date_of_birth=date(2015, 5, 5),
            relation="child",
            created_at=NOW,
        )


@pytest.fixture
def migrated(app):
    """The database taken back to 0012, filled, and upgraded through 0013_encryption to the head
    (the later revisions run on the filled rows too, and the models read them)."""
    with app.app_context():
        password_hash = hash_password(DEFAULT_PASSWORD)
        downgrade(revision="0012")
        try:
            fill_at_0012(password_hash)
            upgrade()
            yield
        finally:
            db.session.remove()
            upgrade()


def raw(sql: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_no_clear_value_is_left(app, migrated):
    with app.app_context():
        rows = repr(raw("SELECT * FROM users") + raw("SELECT * FROM members"))
    clear = [person(n)[key] for n in (0, PEOPLE - 1) for key in ("nid", "phone_number")]
    clear += ["Clear Text Road", "1960-01-0", "8000000001", "2015-05-05", "before0@"]
    assert [value for value in clear if value in rows] == []


def test_every_row_reads_back_as_it_was(app, migrated):
    with app.app_context():
        users = db.session.query(User).order_by(User.id).all()
        read = [{key: getattr(user, key) for key in person(0)} for user in users]
        member = db.session.query(Member).one()
    assert read == [person(n) for n in range(PEOPLE)]
    assert (member.nid, member.date_of_birth) == ("8000000001", date(2015, 5, 5))


def test_every_row_is_indexed(app, migrated):
    with app.app_context():
        last = person(PEOPLE - 1)
        nid, phone, email = (index_of(kind, last[key]) for kind, key in INDEXED)
        found = raw(
            f"SELECT name FROM users WHERE nid_index = '{nid}' AND phone_index = '{phone}'"
            f" AND email_index = '{email}'"
        )
    assert found == [(last["name"],)]


def test_a_migrated_account_signs_in_and_its_nid_stays_taken(app, client, migrated):
    response = client.post(
        "/auth/token", data={"username": "BEFORE0@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    for nid in (person(3)["nid"], "8000000001"):
        assert client.post("/auth/register", json=registration(nid=nid)).status_code == 409


def test_downgrade_gives_the_clear_values_back(app, migrated):
    with app.app_context():
        downgrade(revision="0012")
        rows = raw(
            "SELECT name, email, nid, phone_number, address, date_of_birth FROM users ORDER BY id"
        )
        member = raw("SELECT nid, date_of_birth FROM members")
    expected = [tuple(person(n).values()) for n in range(PEOPLE)]
    # SQLite gives dates back as text without the Date type; PostgreSQL as dates.
    assert [row[:5] for row in rows] == [row[:5] for row in expected]
    assert [str(row[5]) for row in rows] == [row[5].isoformat() for row in expected]
    assert [(nid, str(born)) for nid, born in member] == [("8000000001", "2015-05-05")]
