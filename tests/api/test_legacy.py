"""Routes of backend/legacy/routes.py: the prototype's clients, replayed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import clock, create_app
from backend.legacy import services as legacy
from config import ConfigurationError, load_config
from tests.factories import DEFAULT_PASSWORD, make_user, registration

# --- The prototype's clients, replayed: /profile, and the vaccine service under /legacy/vaccine.

VACCINE = "/legacy/vaccine"
FIELDS = {"id", "user_id", "vaccination_date", "vaccine_id", "verified", "created_at"}
ROUTES = ("create", "myvaccine", "allvaccines", "approve")


pytestmark = pytest.mark.usefixtures("long_lived_tokens")  # some tests move the clock by days


def sign_in(client, app, **fields) -> str:
    """An account's access token, signed in as the prototype's clients do (multipart /login)."""
    with app.app_context():
        email = make_user(**fields).email
    response = client.post(
        "/login",
        data={"username": email, "password": DEFAULT_PASSWORD},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def call(client, route: str, token: str | None, **body):
    """POST /legacy/vaccine/<route> with the token in the JSON body, as the clients send it."""
    return client.post(f"{VACCINE}/{route}", json={"token": token, **body})


def move_clock(monkeypatch, delta: timedelta) -> None:
    moment = clock.utcnow() + delta
    monkeypatch.setattr("backend.clock.utcnow", lambda: moment)


@pytest.fixture
def center(registry) -> int:
    """The first active center, where /legacy/vaccine/create registers."""
    return registry.default_center


@pytest.fixture
def citizen(client, app, center) -> str:
    return sign_in(client, app)


@pytest.fixture
def officer(client, app) -> str:
    return sign_in(client, app, role_id=2)


def approved_link(client, citizen: str, officer: str) -> str:
    """The citizen registers, the officer approves; the certificate_url the citizen then sees."""
    assert call(client, "create", citizen).status_code == 201
    vaccination_id = call(client, "myvaccine", citizen).get_json()[0]["id"]
    assert call(client, "approve", officer, vaccination_id=vaccination_id).status_code == 200
    return call(client, "myvaccine", citizen).get_json()[0]["certificate_url"]


def test_citizen_app_signs_up_signs_in_and_reads_the_profile_with_phone(client):
    body = registration()
    assert client.post("/create", json=body).status_code == 201  # the account service's
    token = client.post(
        "/login",
        data={"username": body["email"], "password": body["password"]},
        content_type="multipart/form-data",
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    profile = client.get("/profile", headers=headers).get_json()
    assert profile["phone"] == profile["phone_number"] == "+8801712" + body["phone_number"][5:]
    assert profile == {
        **client.get("/users/me", headers=headers).get_json(),
        "phone": profile["phone"],
    }
    assert "phone" not in client.get("/users/me", headers=headers).get_json()


def test_profile_with_bearer_null_is_401_json(client):
    response = client.get("/profile", headers={"Authorization": "Bearer null"})
    assert response.status_code == 401
    assert response.get_json()["code"] == 401


def test_citizen_flow_registers_then_reads_the_registration(client, registry, citizen):
    assert call(client, "myvaccine", citizen).get_json() == []
    response = call(client, "create", citizen)
    assert (response.status_code, response.get_json()) == (201, {"success": True})
    response = call(client, "myvaccine", citizen)
    assert response.status_code == 201
    [mine] = response.get_json()
    assert set(mine) == FIELDS | {"certificate_url"}
    assert mine["vaccine_id"] == registry.vaccine("Pfizer")  # the first in the catalogue
    assert mine["vaccination_date"] == clock.utcnow().date().isoformat()
    assert (mine["verified"], mine["certificate_url"]) == (False, None)


def test_myvaccine_shows_only_the_latest_registration(client, citizen):
    call(client, "create", citizen)
    first = call(client, "myvaccine", citizen).get_json()[0]["id"]
    assert client.delete(f"/vaccinations/{first}", headers={"Authorization": f"Bearer {citizen}"})
    assert call(client, "create", citizen).status_code == 201
    [latest] = call(client, "myvaccine", citizen).get_json()
    assert latest["id"] != first


def test_second_pending_registration_is_the_same_409_as_post_vaccinations(
    client, registry, citizen
):
    call(client, "create", citizen)
    legacy_answer = call(client, "create", citizen)
    real_answer = registry.register({"Authorization": f"Bearer {citizen}"})
    assert legacy_answer.status_code == 409
    assert legacy_answer.get_json() == real_answer.get_json()


def test_next_dose_keeps_the_vaccine_of_earlier_doses(client, registry, monkeypatch):
    _, headers = registry.auth.citizen()
    token = headers["Authorization"].removeprefix("Bearer ")
    moderna = registry.vaccine("Moderna")
    registry.approved(headers, vaccine="Moderna")
    move_clock(monkeypatch, timedelta(days=28))
    assert call(client, "create", token).status_code == 201
    [second] = call(client, "myvaccine", token).get_json()
    assert second["vaccine_id"] == moderna
    registry.review(second["id"], "approve")
    refused = call(client, "create", token)
    assert refused.status_code == 409
    assert "all 2 doses of Moderna" in refused.get_json()["message"]


def test_configured_center_is_used_and_an_inactive_one_refused(
    client, app, registry, citizen, monkeypatch
):
    closed = registry.center(active=False)
    monkeypatch.setitem(app.config, "LEGACY_VACCINE_CENTER_ID", closed)
    response = call(client, "create", citizen)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "json": {"center_id": ["No such active vaccination center."]}
    }
    monkeypatch.setitem(app.config, "LEGACY_VACCINE_CENTER_ID", registry.center())
    assert call(client, "create", citizen).status_code == 201


def test_without_an_active_center_create_names_the_center(client, app):
    response = call(client, "create", sign_in(client, app))
    assert response.status_code == 422
    assert "center_id" in response.get_json()["errors"]["json"]


def test_admin_flow_lists_approves_and_opens_the_certificate_without_a_header(
    client, citizen, officer
):
    call(client, "create", citizen)
    response = call(client, "allvaccines", officer)
    assert response.status_code == 200
    [row] = response.get_json()
    assert set(row) == FIELDS | {"certificate_url"} and row["verified"] is False
    response = call(client, "approve", officer, vaccination_id=row["id"])
    assert (response.status_code, response.get_json()) == (200, {"success": True})
    [row] = call(client, "allvaccines", officer).get_json()
    assert row["verified"] is True
    assert row["certificate_url"].startswith(f"http://localhost{VACCINE}/certificates/")
    document = client.get(row["certificate_url"])  # a plain link: no Authorization header
    assert document.status_code == 200
    assert document.mimetype == "application/pdf" and document.data.startswith(b"%PDF")


def test_allvaccines_is_newest_first_and_capped(client, app, center, officer, monkeypatch):
    ids = []
    for _ in range(3):
        token = sign_in(client, app)
        call(client, "create", token)
        ids.append(call(client, "myvaccine", token).get_json()[0]["id"])
    monkeypatch.setattr(legacy, "ALL_VACCINATIONS_CAP", 2)
    rows = call(client, "allvaccines", officer).get_json()
    assert [row["id"] for row in rows] == ids[:0:-1]


def test_approve_keeps_the_review_rules(client, center, officer):
    call(client, "create", officer)
    own = call(client, "myvaccine", officer).get_json()[0]["id"]
    assert call(client, "approve", officer, vaccination_id=own).status_code == 403
    assert call(client, "approve", officer, vaccination_id=2_000_000).status_code == 404
    assert call(client, "approve", officer).status_code == 422


def test_citizen_is_refused_on_both_admin_routes(client, citizen):
    call(client, "create", citizen)
    own = call(client, "myvaccine", citizen).get_json()[0]["id"]
    for response in (
        call(client, "allvaccines", citizen),
        call(client, "approve", citizen, vaccination_id=own),
    ):
        assert response.status_code == 403
        assert response.get_json()["code"] == 403


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("token", [None, "", "null", "not.a.token", 42])
def test_missing_or_bad_token_is_401_json(client, route, token):
    response = call(client, route, token, vaccination_id=1)
    assert response.status_code == 401
    assert response.get_json()["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", ROUTES)
def test_revoked_token_is_401(client, app, route):
    token = sign_in(client, app, role_id=2)
    assert (
        client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    )
    assert call(client, route, token, vaccination_id=1).status_code == 401


def test_header_token_does_not_stand_in_for_the_body(client, officer):
    response = client.post(
        f"{VACCINE}/allvaccines", json={}, headers={"Authorization": f"Bearer {officer}"}
    )
    assert response.status_code == 401


def test_expired_link_is_refused_and_a_fresh_one_is_made_each_time(
    client, app, citizen, officer, monkeypatch
):
    hours = app.config["CERTIFICATE_LINK_HOURS"]
    old = approved_link(client, citizen, officer)
    move_clock(monkeypatch, timedelta(hours=hours - 1))
    fresh = call(client, "myvaccine", citizen).get_json()[0]["certificate_url"]
    assert fresh != old and client.get(old).status_code == 200
    move_clock(monkeypatch, timedelta(hours=2))
    expired = client.get(old)
    assert expired.status_code == 410 and expired.get_json()["code"] == 410
    assert client.get(fresh).status_code == 200


def test_tampered_or_foreign_links_are_refused(client, citizen, officer):
    link = approved_link(client, citizen, officer)
    prefix, signed = link.rsplit("/", 1)
    # Change the signature's first character: all six of its bits are signature bits (the last
    # character's low bits are padding, so "A" -> "B" there decoded to the same signature, a
    # forged link accepted in 1 run of 16).
    at = signed.rindex(".") + 1
    flipped = signed[:at] + ("A" if signed[at] != "A" else "B") + signed[at + 1 :]
    for forged in (flipped, officer, "nothing-signed-here"):
        response = client.get(f"{prefix}/{forged}")
        assert response.status_code == 403
        assert response.get_json()["code"] == 403


def test_link_names_its_one_certificate(client, app, citizen, officer):
    first = approved_link(client, citizen, officer)
    second = approved_link(client, sign_in(client, app), officer)
    assert first != second
    one = client.get(first).headers["Content-Disposition"]
    other = client.get(second).headers["Content-Disposition"]
    assert one != other


def test_revoking_the_certificate_kills_its_link(client, citizen, officer):
    link = approved_link(client, citizen, officer)
    vaccination_id = call(client, "myvaccine", citizen).get_json()[0]["id"]
    client.post(
        f"/vaccinations/{vaccination_id}/revoke",
        json={"reason": "Entered in error"},
        headers={"Authorization": f"Bearer {officer}"},
    )
    assert client.get(link).status_code == 409
    [row] = call(client, "myvaccine", citizen).get_json()
    assert (row["verified"], row["certificate_url"]) == (False, None)


def test_public_base_url_makes_the_link(client, app, citizen, officer, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://vaccines.example.org")
    link = approved_link(client, citizen, officer)
    assert link.startswith(f"https://vaccines.example.org{VACCINE}/certificates/")
    assert client.get(link.removeprefix("https://vaccines.example.org")).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_cors_preflight_succeeds_for_a_configured_origin(app, route):
    origin = "https://citizen.example.org"
    cors_client = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CORS_ORIGINS": [origin],
        }
    ).test_client()
    response = cors_client.options(
        f"{VACCINE}/{route}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin


def test_openapi_lists_the_prototype_routes_as_deprecated(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    operations = [paths["/profile"]["get"]] + [paths[f"{VACCINE}/{r}"]["post"] for r in ROUTES]
    for operation in operations:
        assert operation["deprecated"] is True
        assert operation["tags"] == ["Prototype (deprecated)"]


def test_link_settings_are_read_and_checked():
    config = load_config(
        {"PUBLIC_BASE_URL": " https://vaccines.example.org/ ", "CERTIFICATE_LINK_HOURS": "2"},
        APP_ENV="testing",
    )
    assert config["PUBLIC_BASE_URL"] == "https://vaccines.example.org"
    assert config["CERTIFICATE_LINK_HOURS"] == 2
    assert load_config({}, APP_ENV="testing")["CERTIFICATE_LINK_HOURS"] == 24
    for bad in ({"PUBLIC_BASE_URL": "vaccines.example.org"}, {"CERTIFICATE_LINK_HOURS": "0"}):
        with pytest.raises(ConfigurationError):
            load_config(bad, APP_ENV="testing")
