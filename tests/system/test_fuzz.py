"""Fuzz every operation in the app's own OpenAPI document with schemathesis, as each role.

Checks: no 5xx, and each response's status and body as the document describes them. The
document comes from an app built here at import (schemathesis collects one test per operation
from it); the requests go to the `app` fixture, which serves the same document.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import response_schema_conformance

from backend import create_app
from backend.extensions import db
from backend.models import Vaccine
from backend.vaccination.services import today
from tests.factories import make_center, make_session

DOCUMENT_APP = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
schema = schemathesis.openapi.from_wsgi("/openapi.json", DOCUMENT_APP)
# Routes whose id should name the approved registration rather than the pending one.
ON_APPROVED = ("/revoke", "/certificate")


def status_is_documented(ctx, response, case) -> None:
    """The operation lists the status itself: flask-smorest's catch-all `default` does not count."""
    if case.method.upper() != case.operation.method.upper():
        return  # the coverage phase also tries methods the route does not have (405)
    documented = case.operation.definition.raw["responses"]
    assert str(response.status_code) in documented, (
        f"{case.operation.label} answered {response.status_code}, which its entry does not list"
    )


CHECKS = [not_a_server_error, response_schema_conformance, status_is_documented]


@pytest.fixture(params=["citizen", "admin"])
def signed_in(request, app, client, auth, registry) -> tuple[dict, dict]:
    """The role's headers, and ids of rows its routes can reach: a citizen's approved first
    dose and pending second (their own, or someone else's for the admin), a center and a
    vaccine nobody uses, a session, and the citizen's member with an appointment in it. Made
    first: the coverage phase deletes what it finds."""
    owner_id, owner = auth.citizen()
    approved, _ = registry.approved(owner)
    later = today() + timedelta(days=120)
    pending, _ = registry.pending(owner, preferred_date=later.isoformat())
    with app.app_context():
        vaccine = Vaccine(name="Unused", manufacturer="-", doses_required=1, dose_interval_days=0)
        db.session.add(vaccine)
        db.session.commit()
        session_id = make_session(center_id=make_center().id).id
        ids = {
            "user_id": owner_id,
            "center_id": make_center().id,
            "vaccine_id": vaccine.id,
            "approved": approved,
            "pending": pending,
            "session_id": session_id,
        }
    member = {"name": "Abba", "nid": "19600101000001", "date_of_birth": "1960-01-01"}
    member = client.post("/users/me/members", json={**member, "relation": "parent"}, headers=owner)
    booking = {"session_id": session_id, "member_id": member.get_json()["id"]}
    appointment = client.post("/appointments", json=booking, headers=owner)
    ids |= {"member_id": booking["member_id"], "appointment_id": appointment.get_json()["id"]}
    return (owner if request.param == "citizen" else registry.officer), ids


def point_at_rows(case, ids: dict) -> None:
    """Path ids of the seeded rows, so routes get past their 404s to their other answers (other
    path parameters, such as a signed link, stay as generated)."""
    approved = case.operation.path.endswith(ON_APPROVED)
    ids = {**ids, "vaccination_id": ids["approved" if approved else "pending"]}
    case.path_parameters = {
        name: ids.get(name, value) for name, value in case.path_parameters.items()
    }


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI is reproducible
    database=None,
    # The signed-in account and the seeded rows deliberately outlive single examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api(case, app, signed_in):
    headers, ids = signed_in
    # The coverage phase keeps its boundary ids (0, the maximum: 404s); fuzzing uses real rows.
    if case.path_parameters and case.meta and case.meta.phase.name == TestPhase.FUZZING:
        point_at_rows(case, ids)
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
