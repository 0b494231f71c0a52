"""Hostile or sloppy input gets a clear 4xx, and every response carries the security headers."""

import pytest

from backend import create_app
from tests.factories import registration


def test_wrong_content_type_is_415(client):
    response = client.post("/auth/register", data="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["code"] == 415


def test_form_body_on_a_json_only_route_is_415(client):
    response = client.post("/auth/register", data={"name": "x"})
    assert response.status_code == 415


@pytest.mark.parametrize("text", ["\\u0000", "nul\\u0000inside", "\\ud800", "lone \\udfff"])
def test_nul_bytes_and_lone_surrogates_are_422(client, text):
    body = '{"name": "' + text + '", "email": "a@example.org"}'
    response = client.post("/auth/register", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]["json"]


def test_nul_in_a_query_string_is_422(client, auth):
    _, headers = auth.admin()
    assert client.get("/users?q=a%00b", headers=headers).status_code == 422


def test_nul_in_a_form_is_422(client):
    response = client.post("/auth/token", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 422


def test_over_long_strings_are_422(client):
    response = client.post("/auth/register", json=registration(name="n" * 121))
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]["json"]


def test_authorization_header_over_8_kib_is_401_unparsed(client):
    response = client.get("/users/me", headers={"Authorization": "Bearer " + "a" * 9000})
    assert response.status_code == 401
    assert "too long" in response.get_json()["message"]


def test_every_response_has_nosniff_and_no_store(client, auth):
    _, headers = auth.citizen()
    for response in (
        client.get("/health"),
        client.get("/users/me", headers=headers),
        client.get("/missing"),
        client.post("/auth/token", data={"username": "x", "password": "y"}),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in client.get("/health").headers


def test_hsts_when_configured(app):
    hsts_app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "HSTS": True,
        }
    )
    response = hsts_app.test_client().get("/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_request_id_is_kept_or_generated(client):
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/health", headers={"X-Request-ID": "bad id <script>"}).headers[
        "X-Request-ID"
    ]
    assert len(generated) == 32


def test_cors_only_for_configured_origins(app):
    cors_app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CORS_ORIGINS": ["https://citizen.example.org"],
        }
    ).test_client()
    allowed = cors_app.get("/health", headers={"Origin": "https://citizen.example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://citizen.example.org"
    other = cors_app.get("/health", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path",
    ["/users/{}", "/centers/{}", "/vaccines/{}", "/vaccinations/{}", "/vaccinations/{}/approve"],
)
def test_ids_beyond_the_integer_range_are_404_for_every_method(client, auth, method, path):
    # Found by tests/test_fuzz.py: werkzeug's int(max=...) made these a 405 on most methods.
    _, headers = auth.admin()
    for huge in ("2147483648", "99999999999999999999"):
        response = client.open(path.format(huge), method=method, headers=headers)
        assert response.status_code == 404, (method, path, huge, response.status_code)
