"""`flask privacy purge --older-than DAYS`: closed accounts lose their personal data and
credentials, keep their vaccination records and their NID's blind index; once per person."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from backend.extensions import db
from backend.models import AuditEvent, Member, User, Vaccination
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import registration

NID, MEMBER_NID = "5550001234", "5550009876"


@pytest.fixture
def closed(app, client, auth, registry):
    """A citizen with a family member and an approved dose, whose account was then closed."""
    user_id, headers = auth.citizen(nid=NID, address="7 Closed Street")
    member = {"name": "Kin", "nid": MEMBER_NID, "date_of_birth": "1950-01-02", "relation": "parent"}
    assert client.post("/users/me/members", json=member, headers=headers).status_code == 201
    registry.approved(headers)
    body = {"password": DEFAULT_PASSWORD}
    assert client.delete("/users/me", json=body, headers=headers).status_code == 204
    return user_id


def purge(app, days: int = 0) -> str:
    result = app.test_cli_runner().invoke(args=["privacy", "purge", "--older-than", str(days)])
    assert result.exit_code == 0, result.output
    return result.output


def test_purge_removes_personal_data_and_credentials(app, closed):
    assert purge(app) == "purged 1 closed accounts\n"
    with app.app_context():
        user = db.session.get(User, closed)
        assert (user.nid, user.phone_number, user.address, user.date_of_birth) == (None,) * 4
        assert user.name == f"Purged account {closed}" and user.password_hash == "!purged"
        member = db.session.scalars(select(Member)).one()
        assert (member.name, member.nid, member.date_of_birth) == ("Purged member", None, None)


def test_purge_keeps_the_vaccination_records_and_the_nid_indexes(app, closed):
    purge(app)
    with app.app_context():
        doses = db.session.scalar(select(func.count()).where(Vaccination.user_id == closed))
        indexes = db.session.execute(
            text("SELECT nid_index FROM users WHERE id = :id"), {"id": closed}
        )
        member_index = db.session.scalar(text("SELECT nid_index FROM members"))
    assert doses == 1 and indexes.scalar() is not None and member_index is not None


def test_a_returning_person_is_recognised_by_the_nid(app, client, closed):
    purge(app)
    response = client.post("/auth/register", json=registration(nid=NID))
    assert response.status_code == 409
    response = client.post("/auth/register", json=registration(nid=MEMBER_NID))
    assert response.status_code == 409


def test_a_second_run_purges_nothing_and_records_one_event(app, closed):
    purge(app)
    assert purge(app) == "purged 0 closed accounts\n"
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.event == "account.purged")
        ).all()
    assert events == [closed]


def test_accounts_closed_more_recently_are_kept(app, closed):
    assert purge(app, days=30) == "purged 0 closed accounts\n"
    with app.app_context():
        assert db.session.get(User, closed).nid == NID


def test_open_accounts_are_never_purged(app, auth):
    user_id, _ = auth.citizen(nid=NID)
    assert purge(app) == "purged 0 closed accounts\n"
    with app.app_context():
        assert db.session.get(User, user_id).nid == NID
