"""POST /staff records the vaccinator's own national ID, without which it refuses."""

from __future__ import annotations

import pytest

from tests.factories import make_center


@pytest.fixture
def center(app):
    with app.app_context():
        return make_center(name="Mohakhali Field Hospital").id


def body(center_id: int, **fields) -> dict:
    return {"name": "Nasima", "email": "nasima@example.org", "center_id": center_id, **fields}


def test_a_vaccinator_needs_their_nid(client, auth, center):
    admin = auth.admin()[1]
    response = client.post("/staff", json=body(center), headers=admin)
    assert response.status_code == 422
    assert "nid" in response.get_json()["errors"]["json"]


def test_the_nid_is_kept_and_shown_to_admins(client, auth, center):
    admin = auth.admin()[1]
    response = client.post("/staff", json=body(center, nid="1988123456789"), headers=admin)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["nid"] == "1988123456789"
    listed = client.get(f"/staff?center_id={center}", headers=admin).get_json()
    assert [member["nid"] for member in listed] == ["1988123456789"]


def test_the_nid_may_be_that_of_their_own_citizen_account(client, auth, center):
    auth.citizen(nid="1988123456789")
    admin = auth.admin()[1]
    response = client.post("/staff", json=body(center, nid="1988123456789"), headers=admin)
    assert response.status_code == 201, response.get_json()


def test_the_cli_needs_the_nid_too(app, center):
    result = app.test_cli_runner().invoke(
        args=["users", "create-vaccinator", "--email", "nasima@example.org", "--name", "Nasima"]
        + ["--center-id", str(center), "--password", "a long vaccinator secret"]
    )
    assert result.exit_code != 0 and "--nid" in result.output
