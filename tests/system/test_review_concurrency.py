"""Concurrent approvals of one registration, across gunicorn workers, give one certificate."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from backend.auth.tokens import issue_access_token
from backend.extensions import db
from backend.models import Certificate, Status, Vaccination
from tests.factories import make_center, make_user, vaccine_id
from tests.server import gunicorn, request

APPROVERS = 10


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("multi-worker races are checked on PostgreSQL (set TEST_DATABASE_URL)")
    return database_url


def pending_registration_and_officers(app) -> tuple[int, list[dict]]:
    """A pending registration, and the headers of admins who did not make it."""
    with app.app_context():
        citizen = make_user()
        vaccination = Vaccination(
            user_id=citizen.id,
            center_id=make_center().id,
            vaccine_id=vaccine_id("Pfizer"),
            dose_number=1,
            status=Status.PENDING,
        )
        db.session.add(vaccination)
        db.session.commit()
        officers = [make_user(role_id=2, mfa_enabled=True) for _ in range(2)]  # staff gate
        # Signed with this app's SECRET_KEY, which the server below is given.
        tokens = [issue_access_token(officer.id, officer.token_version)[0] for officer in officers]
        return vaccination.id, [{"Authorization": f"Bearer {token}"} for token in tokens]


def test_ten_simultaneous_approvals_give_one_outcome_and_one_certificate(app, postgres_url):
    vaccination_id, officers = pending_registration_and_officers(app)
    with gunicorn(postgres_url, workers=4, SECRET_KEY=app.config["SECRET_KEY"]) as base:
        start = Barrier(APPROVERS)

        def approve(n):
            start.wait()
            url = f"{base}/vaccinations/{vaccination_id}/approve"
            return request("POST", url, {}, officers[n % len(officers)])

        with ThreadPoolExecutor(APPROVERS) as pool:
            answers = list(pool.map(approve, range(APPROVERS)))
    assert [status for status, _ in answers] == [200] * APPROVERS, answers
    certificate_ids = {body["certificate"]["certificate_id"] for _, body in answers}
    reviewers = {body["reviewed_by_id"] for _, body in answers}
    assert len(certificate_ids) == 1 and len(reviewers) == 1
    with app.app_context():
        assert db.session.query(Certificate).count() == 1
        assert db.session.get(Vaccination, vaccination_id).status == Status.APPROVED
