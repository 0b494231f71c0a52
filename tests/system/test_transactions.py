"""One transaction per request: when a later step fails, nothing of the earlier ones remains."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from backend.extensions import db
from backend.models import AuditEvent, Certificate, SignInSession, User, Vaccination
from backend.privacy.fields import index_of
from tests.factories import DEFAULT_PASSWORD, registration


class StepFailed(RuntimeError):
    pass


def fail(*args, **kwargs):
    raise StepFailed("the second step failed")


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_failed_signing_leaves_the_registration_pending_and_no_certificate(
    app, client, registry, monkeypatch
):
    vaccination_id, _ = registry.pending()
    monkeypatch.setattr("backend.vaccination.services.issue_certificate", fail)
    with pytest.raises(StepFailed):  # the test app propagates server errors to the test
        registry.review(vaccination_id, "approve")
    with app.app_context():
        assert db.session.get(Vaccination, vaccination_id).status == "pending"
    assert count(app, Certificate) == 0
    assert count(app, AuditEvent, AuditEvent.event == "vaccination.approved") == 0
    monkeypatch.undo()
    assert registry.review(vaccination_id, "approve").status_code == 200


def test_a_failed_audit_append_leaves_no_account(app, client, monkeypatch):
    monkeypatch.setattr("backend.auth.services.record", fail)
    body = registration(email="half@example.org")
    with pytest.raises(StepFailed):
        client.post("/auth/register", json=body)
    with app.app_context():
        half = index_of("email", "half@example.org")
    assert count(app, User, User.email_index == half) == 0
    monkeypatch.undo()
    assert client.post("/auth/register", json=body).status_code == 201


def test_a_sign_in_whose_audit_append_fails_issues_no_token_and_holds_no_lock(
    app, client, auth, monkeypatch
):
    auth.citizen(email="append@example.org")
    form = {"username": "append@example.org", "password": DEFAULT_PASSWORD}
    before = count(app, AuditEvent, AuditEvent.event == "sign_in.succeeded")
    # Fails after the head is locked and before the row is written.
    monkeypatch.setattr("backend.audit.services._digest", fail)
    with pytest.raises(StepFailed):
        client.post("/auth/token", data=form)
    monkeypatch.undo()
    assert open_transactions(app) == 0
    # The lock was released with the transaction: these would wait out the statement timeout.
    for _ in range(3):
        assert client.post("/auth/token", data=form).status_code == 200
    assert count(app, AuditEvent, AuditEvent.event == "sign_in.succeeded") == before + 3
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output


def test_a_sign_in_whose_audit_append_fails_leaves_no_session(app, client, auth, monkeypatch):
    user_id, _ = auth.citizen(email="sessionless@example.org")
    form = {"username": "sessionless@example.org", "password": DEFAULT_PASSWORD}
    before = count(app, SignInSession, SignInSession.user_id == user_id)
    monkeypatch.setattr("backend.audit.services._digest", fail)  # after the session's INSERT
    with pytest.raises(StepFailed):
        client.post("/auth/token", data=form)
    assert count(app, SignInSession, SignInSession.user_id == user_id) == before


def test_a_database_error_inside_the_sign_in_append_leaves_a_usable_connection(
    app, client, auth, postgres_url
):
    auth.citizen(email="refused@example.org")
    form = {"username": "refused@example.org", "password": DEFAULT_PASSWORD}
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(REFUSE_AUDIT_INSERTS))
    try:
        with pytest.raises(DBAPIError):  # the test app propagates server errors to the test
            client.post("/auth/token", data=form)
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_audit_inserts ON audit_events"))
    # The fast pool's connection was rolled back, not left "in failed transaction".
    for _ in range(3):
        assert client.post("/auth/token", data=form).status_code == 200


def open_transactions(app) -> int:
    """Other connections idle inside a transaction (PostgreSQL; SQLite has none to show)."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return 0
        return connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )


REFUSE_AUDIT_INSERTS = """
CREATE OR REPLACE FUNCTION refuse_audit_inserts() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'refused for the test'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_audit_inserts BEFORE INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION refuse_audit_inserts();
"""
