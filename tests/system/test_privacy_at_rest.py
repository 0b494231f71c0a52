"""Personal data at rest: no clear NID, phone, date of birth or address in the database (its
raw rows, and a pg_dump on PostgreSQL); lookups and conflicts through the blind indexes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.models import User
from backend.privacy.crypto import UndecryptableValue, keyring
from tests.factories import registration

NID, PHONE, LOCAL_PHONE = "19907612345678", "+8801712987654", "01712-987654"
BORN, ADDRESS = "1971-03-26", "42 Lalbagh Fort Road"
EMAIL = "rahima.khatun@example.org"
MEMBER_NID, MEMBER_BORN = "20150311234567891", "2015-03-11"
SECRETS = (NID, PHONE, "1712987654", BORN, ADDRESS, EMAIL, MEMBER_NID, MEMBER_BORN)


@pytest.fixture
def person(client):
    body = registration(
        email=EMAIL,
        nid=NID,
        phone_number=LOCAL_PHONE,
        date_of_birth=BORN,
        address=ADDRESS,
    )
    assert client.post("/auth/register", json=body).status_code == 201
    token = client.post("/auth/token", data={"username": EMAIL, "password": body["password"]})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    member = {"name": "Child", "nid": MEMBER_NID, "date_of_birth": MEMBER_BORN, "relation": "child"}
    assert client.post("/users/me/members", json=member, headers=headers).status_code == 201
    return headers


def raw_rows(app) -> str:
    """Every row of every table, as the database returns it without our column types."""
    with app.app_context():
        with db.engine.connect() as connection:
            return "\n".join(
                repr(tuple(row))
                for table in db.metadata.sorted_tables
                for row in connection.execute(text(f"SELECT * FROM {table.name}"))
            )


def test_raw_rows_hold_no_clear_personal_value(app, person):
    rows = raw_rows(app)
    assert "Child" in rows  # the dump is real: names are not encrypted
    assert [value for value in SECRETS if value in rows] == []


def test_the_owner_still_reads_the_values(client, person):
    me = client.get("/users/me", headers=person).get_json()
    assert (me["nid"], me["phone_number"], me["date_of_birth"]) == (NID, PHONE, BORN)
    assert me["address"] == ADDRESS and me["email"] == EMAIL


def test_stored_values_name_their_key(app, person):
    with app.app_context():
        nid = db.session.scalar(text("SELECT nid FROM users WHERE nid IS NOT NULL"))
        assert nid.split(":")[0] == keyring().current_id


def test_a_pg_dump_holds_no_clear_personal_value(app, person, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("pg_dump needs PostgreSQL (set TEST_DATABASE_URL)")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    dump = subprocess.run(
        ["pg_dump", "--data-only", database_url], capture_output=True, text=True, check=True
    ).stdout
    assert "Child" in dump
    assert [value for value in SECRETS if value in dump] == []


@pytest.mark.parametrize("q", [NID, "1990-7612-345678", LOCAL_PHONE, PHONE, EMAIL.upper()])
def test_admin_finds_the_person_by_a_whole_value_in_any_accepted_form(client, auth, person, q):
    _, headers = auth.admin()
    found = client.get("/users", query_string={"q": q}, headers=headers).get_json()
    assert [user["email"] for user in found] == [EMAIL]


@pytest.mark.parametrize("q", [NID[-6:], "987654", "rahima.khatun"])
def test_part_of_an_encrypted_value_finds_nobody(client, auth, person, q):
    _, headers = auth.admin()
    assert client.get("/users", query_string={"q": q}, headers=headers).get_json() == []


def test_registering_the_nid_again_in_another_form_is_409(client, person):
    body = registration(nid="19907612-345678")
    response = client.post("/auth/register", json=body)
    assert response.status_code == 409 and "nid" in response.get_json()["errors"]["json"]


def test_registering_the_email_again_in_capitals_is_409(client, person):
    response = client.post("/auth/register", json=registration(email=EMAIL.upper()))
    assert response.status_code == 409 and "email" in response.get_json()["errors"]["json"]


def test_registering_a_members_nid_as_an_account_is_409(client, person):
    response = client.post("/auth/register", json=registration(nid=MEMBER_NID))
    assert response.status_code == 409 and "nid" in response.get_json()["errors"]["json"]


def test_a_value_copied_into_another_column_does_not_decrypt(app, person):
    """Associated data binds a value to its column: a copy is refused, never read as data."""
    with app.app_context():
        db.session.execute(text("UPDATE users SET address = nid WHERE nid IS NOT NULL"))
        db.session.commit()
        with pytest.raises(UndecryptableValue, match="users.address"):
            db.session.scalars(select(User.address).where(User.address.is_not(None))).all()
