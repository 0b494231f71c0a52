"""POST /staff records the vaccinator's own national ID, without which it refuses."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.models import User
from backend.privacy.fields import index_of
from tests.api.test_auth import NEW_PASSWORD, forgot, reset
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


# --- Vaccinator accounts: POST/GET/DELETE /staff, `flask users create-vaccinator`, role checks.


@pytest.fixture
def center_staff(app):
    with app.app_context():
        return make_center(name="Mugda General Hospital").id


def staff_body(center_id: int, **fields) -> dict:
    body = {"name": "Rina Akter", "email": "rina@example.org", "center_id": center_id}
    body["nid"] = "1985123456789"
    return {**body, **fields}


def test_admin_creates_a_vaccinator_who_can_sign_in(client, auth, center_staff):
    _, admin = auth.admin()
    body = staff_body(center_staff, password="a long vaccinator secret")
    response = client.post("/staff", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["role_id"] == 3 and created["center_id"] == center_staff
    assert auth.token("rina@example.org", "a long vaccinator secret")


def test_without_a_password_the_vaccinator_sets_one_by_reset(client, auth, center_staff, mailbox):
    _, admin = auth.admin()
    assert client.post("/staff", json=staff_body(center_staff), headers=admin).status_code == 201
    code = forgot(client, mailbox)
    assert reset(client, code).status_code == 204
    assert auth.token("rina@example.org", NEW_PASSWORD)


def test_staff_needs_an_active_center(client, auth):
    _, admin = auth.admin()
    response = client.post("/staff", json=staff_body(999_999), headers=admin)
    assert response.status_code == 422
    assert "center_id" in response.get_json()["errors"]["json"]


def test_duplicate_staff_email_is_a_conflict(client, auth, center_staff):
    _, admin = auth.admin()
    client.post("/staff", json=staff_body(center_staff), headers=admin)
    assert client.post("/staff", json=staff_body(center_staff), headers=admin).status_code == 409


@pytest.mark.parametrize("role", ["citizen", "vaccinator"])
def test_only_admins_manage_staff(client, auth, center_staff, role):
    _, headers = auth.citizen() if role == "citizen" else auth.vaccinator(center_staff)
    assert client.post("/staff", json=staff_body(center_staff), headers=headers).status_code == 403
    assert client.get("/staff", headers=headers).status_code == 403


def test_list_shows_open_vaccinators_of_a_center(client, auth, center_staff, app):
    _, admin = auth.admin()
    with app.app_context():
        elsewhere = make_center().id
    ours, _ = auth.vaccinator(center_staff)
    auth.vaccinator(elsewhere)
    every = client.get("/staff", headers=admin).get_json()
    assert len(every) == 2
    listed = client.get(f"/staff?center_id={center_staff}", headers=admin).get_json()
    assert [person["id"] for person in listed] == [ours]


def test_closing_a_vaccinator_ends_their_sessions(client, auth, center_staff):
    _, admin = auth.admin()
    vaccinator_id, headers = auth.vaccinator(center_staff)
    assert client.delete(f"/staff/{vaccinator_id}", headers=admin).status_code == 204
    assert client.get("/users/me", headers=headers).status_code == 401
    assert client.get("/staff", headers=admin).get_json() == []
    assert client.delete(f"/staff/{vaccinator_id}", headers=admin).status_code == 404


def test_delete_staff_does_not_close_citizens(client, auth):
    _, admin = auth.admin()
    citizen_id, _ = auth.citizen()
    assert client.delete(f"/staff/{citizen_id}", headers=admin).status_code == 404


def test_a_vaccinator_cannot_register_themselves(client, auth, center_staff, registry, booking):
    _, headers = auth.vaccinator(center_staff)
    assert registry.register(headers).status_code == 403
    assert booking.book(headers, booking.session()).status_code == 403
    member = {"name": "Kid", "nid": "12345678901234567", "date_of_birth": "2015-01-01"}
    member["relation"] = "child"
    response = client.post("/users/me/members", json=member, headers=headers)
    assert response.status_code == 403
    legacy = client.post("/legacy/vaccine/create", json={"token": headers["Authorization"][7:]})
    assert legacy.status_code == 403


def test_a_vaccinator_is_refused_admin_routes(client, auth, center_staff):
    _, headers = auth.vaccinator(center_staff)
    assert client.get("/users", headers=headers).status_code == 403
    assert client.get("/vaccinations", headers=headers).status_code == 403


def test_cli_creates_a_vaccinator(app, center_staff):
    result = app.test_cli_runner().invoke(
        args=["users", "create-vaccinator", "--email", "Nur@Example.org", "--name", "Nur"]
        + ["--center-id", str(center_staff), "--nid", "1985123456789"]
        + ["--password", "a long vaccinator secret"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(
            db.select(User).filter_by(email_index=index_of("email", "nur@example.org"))
        ).one()
        assert (user.role_id, user.center_id) == (3, center_staff)


def test_cli_prompts_for_the_password(app, center_staff):
    result = app.test_cli_runner().invoke(
        args=["users", "create-vaccinator", "--email", "nur@example.org", "--name", "Nur"]
        + ["--center-id", str(center_staff), "--nid", "1985123456789"],
        input="a long vaccinator secret\na long vaccinator secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "created vaccinator" in result.output


def test_cli_refuses_an_unknown_center(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create-vaccinator", "--email", "nur@example.org", "--name", "Nur"]
        + ["--center-id", "999999", "--nid", "1985123456789"]
        + ["--password", "a long vaccinator secret"]
    )
    assert result.exit_code == 1 and "center" in result.output


# --- PATCH /staff/<id>: an admin sets a vaccinator's NID (pre-0016 accounts have none), name
# or center.

WALK_IN = {"nid": "19905550999", "name": "Someone Else", "date_of_birth": "1980-02-01"}


def walk_in(client, headers, registry):
    body = {**WALK_IN, "vaccine_id": registry.vaccine(), "batch": "L1"}
    return client.post("/administrations", json=body, headers=headers)


def patch(client, headers, staff_id, **fields):
    return client.patch(f"/staff/{staff_id}", json=fields, headers=headers)


@pytest.fixture
def before_0016(auth, center_staff):
    """A vaccinator created before migration 0016: no staff NID, no NID of their own."""
    return auth.vaccinator(center_staff, staff_nid=None)


def test_a_vaccinator_without_an_nid_is_told_how_to_get_one(client, registry, before_0016):
    staff_id, headers = before_0016
    response = walk_in(client, headers, registry)
    assert response.status_code == 403
    assert f"PATCH /staff/{staff_id}" in response.get_json()["message"]


def test_once_an_admin_sets_the_nid_their_doses_are_recorded(client, auth, registry, before_0016):
    staff_id, headers = before_0016
    admin = auth.admin()[1]
    response = patch(client, admin, staff_id, nid="1985-1234-56789")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["nid"] == "1985123456789"  # as GET /staff shows it
    assert walk_in(client, headers, registry).status_code == 201  # the same token: no sign-in


def test_the_new_nid_is_the_vaccinators_own(client, auth, registry, before_0016):
    staff_id, headers = before_0016
    patch(client, auth.admin()[1], staff_id, nid=WALK_IN["nid"])
    assert walk_in(client, headers, registry).status_code == 403  # now a dose to themselves


def test_the_nid_may_be_that_of_their_citizen_account_as_at_creation(client, auth, before_0016):
    auth.citizen(nid="1988123456789")
    response = patch(client, auth.admin()[1], before_0016[0], nid="1988123456789")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("nid", ["12345", "1988-ABC-4567", "", None])
def test_a_bad_nid_is_refused(client, auth, before_0016, nid):
    response = patch(client, auth.admin()[1], before_0016[0], nid=nid)
    assert response.status_code == 422
    assert "nid" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("field", ["email", "password", "role_id"])
def test_only_name_center_and_nid_can_be_changed(client, auth, before_0016, field):
    response = patch(client, auth.admin()[1], before_0016[0], **{field: "x"})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_an_empty_change_is_refused(client, auth, before_0016):
    assert patch(client, auth.admin()[1], before_0016[0]).status_code == 422


def test_the_name_and_center_change(app, client, auth, before_0016):
    with app.app_context():
        elsewhere = make_center().id
    admin = auth.admin()[1]
    response = patch(client, admin, before_0016[0], name="Rina Begum", center_id=elsewhere)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "Rina Begum"
    listed = client.get(f"/staff?center_id={elsewhere}", headers=admin).get_json()
    assert [person["id"] for person in listed] == [before_0016[0]]


def test_the_center_must_be_active(app, client, auth, before_0016):
    with app.app_context():
        closed = make_center(active=False).id
    for center_id in (closed, 999_999):
        response = patch(client, auth.admin()[1], before_0016[0], center_id=center_id)
        assert response.status_code == 422
        assert "center_id" in response.get_json()["errors"]["json"]


def test_only_open_staff_accounts_are_changed(client, auth, before_0016):
    admin_id, admin = auth.admin()
    citizen_id, _ = auth.citizen()
    client.delete(f"/staff/{before_0016[0]}", headers=admin)
    for user_id in (citizen_id, admin_id, before_0016[0], 999_999):
        assert patch(client, admin, user_id, name="Someone").status_code == 404


@pytest.mark.parametrize("role", ["citizen", "vaccinator"])
def test_only_admins_change_staff(client, auth, center_staff, before_0016, role):
    _, headers = auth.citizen() if role == "citizen" else auth.vaccinator(center_staff)
    response = patch(client, headers, before_0016[0], nid="1985123456789")
    assert response.status_code == 403


def test_an_admin_without_two_factor_is_refused(app, client, auth, before_0016, monkeypatch):
    admin = auth.admin()[1]
    monkeypatch.setitem(app.config, "REQUIRE_STAFF_MFA", True)
    response = patch(client, admin, before_0016[0], nid="1985123456789")
    assert response.status_code == 403 and "two-factor" in response.get_json()["message"]


def test_the_change_is_audited_without_the_nid(app, client, auth, center_staff, before_0016):
    admin_id, admin = auth.admin()
    patch(client, admin, before_0016[0], nid="1985123456789", center_id=center_staff)
    trail = client.get("/audit", query_string={"event": "staff.updated"}, headers=admin).get_json()
    [event] = trail
    assert (event["actor_id"], event["subject_id"]) == (admin_id, before_0016[0])
    assert event["details"] == {"fields": ["center_id", "nid"], "center_id": center_staff}
    assert "1985123456789" not in str(event)
