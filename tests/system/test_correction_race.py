"""Two admins approving a person's 5th and 6th corrections at once make 5, never 6 (PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

from backend.extensions import db
from backend.models import Correction, CorrectionStatus
from backend.vaccination.certificates import issue_certificate
from backend.vaccination.corrections import MAX_APPROVED_CORRECTIONS
from tests.factories import make_dose, make_user


def certificates_of_two_doses(app) -> tuple[int, str, list[str]]:
    """A citizen with two doses, each with its certificate: their id, email and the two ids."""
    with app.app_context():
        citizen = make_user(name="Selina Parvin")
        ids = []
        for given in (date(2026, 1, 5), date(2026, 2, 5)):
            certificate = issue_certificate(make_dose(citizen, given=given))
            db.session.add(certificate)
            db.session.commit()
            ids.append(certificate.id)
        return citizen.id, citizen.email, ids


def corrections(app, user_id: int, certificate_id: str, status: str, count: int) -> list[int]:
    with app.app_context():
        rows = [
            Correction(
                certificate_id=certificate_id,
                user_id=user_id,
                name=f"Selina Parvin {n}",
                reason="Spelling",
                status=status,
            )
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def at_once(app, calls) -> list[int]:
    """Run each (method, url, headers, body) in its own thread and client, released at once."""
    start = Barrier(len(calls))

    def call(args):
        method, url, headers, body = args
        client = app.test_client()
        start.wait()
        return client.open(url, method=method, json=body, headers=headers).status_code

    with ThreadPoolExecutor(len(calls)) as pool:
        return sorted(pool.map(call, calls))


def approved(app, user_id: int) -> int:
    with app.app_context():
        return (
            db.session.query(Correction)
            .filter_by(user_id=user_id, status=CorrectionStatus.APPROVED)
            .count()
        )


def test_two_approvals_of_the_fifth_and_sixth_make_five(app, auth, postgres_url):
    user_id, _, (first, second) = certificates_of_two_doses(app)
    corrections(app, user_id, first, CorrectionStatus.APPROVED, MAX_APPROVED_CORRECTIONS - 1)
    fifth = corrections(app, user_id, first, CorrectionStatus.PENDING, 1)[0]
    sixth = corrections(app, user_id, second, CorrectionStatus.PENDING, 1)[0]
    admins = [auth.admin()[1], auth.admin()[1]]
    answers = at_once(
        app,
        [
            ("POST", f"/corrections/{fifth}/approve", admins[0], None),
            ("POST", f"/corrections/{sixth}/approve", admins[1], None),
        ],
    )
    assert answers == [200, 409]
    assert approved(app, user_id) == MAX_APPROVED_CORRECTIONS


def test_two_requests_for_the_fifth_place_make_one(app, auth, postgres_url):
    user_id, email, (first, second) = certificates_of_two_doses(app)
    corrections(app, user_id, first, CorrectionStatus.APPROVED, MAX_APPROVED_CORRECTIONS - 1)
    holder = auth.headers(email)
    body = {"name": "Selina Parveen", "reason": "Spelling"}
    answers = at_once(
        app,
        [
            ("POST", f"/certificates/{first}/corrections", holder, body),
            ("POST", f"/certificates/{second}/corrections", holder, body),
        ],
    )
    assert answers == [202, 409]
