"""One transaction per request: when a later step fails, nothing of the earlier ones remains."""

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AuditEvent, Certificate, User, Vaccination
from tests.factories import registration


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
    assert count(app, User, User.email == "half@example.org") == 0
    monkeypatch.undo()
    assert client.post("/auth/register", json=body).status_code == 201
