"""Hostile or sloppy input gets a clear 4xx, and every response carries the security headers."""

import logging

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


DEEP_JSON = ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000]


@pytest.mark.parametrize("body", DEEP_JSON, ids=["arrays", "objects"])
@pytest.mark.parametrize(
    "path", ["/auth/register", "/auth/password/forgot", "/auth/token", "/vaccinations"]
)
def test_json_nested_too_deeply_is_a_400_not_a_traceback(client, auth, caplog, path, body):
    _, headers = auth.citizen()
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_many_unknown_fields_get_one_short_422(client):
    body = "{" + ",".join(f'"k{i}": 1' for i in range(80_000)) + "}"  # ~1 MiB
    response = client.post("/auth/register", data=body, content_type="application/json")
    assert response.status_code == 422
    assert len(response.data) < 1024
    assert "80000 fields" in response.get_json()["errors"]["json"]["_schema"][0]


def test_an_error_body_lists_20_problems_and_counts_the_rest(client):
    # 27 unknown fields (the schema's 7 plus 20 are still checked one by one) + 5 missing.
    body = {f"extra{i}": 1 for i in range(27)}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    problems = response.get_json()["errors"]["json"]
    assert len(problems) == 21
    assert problems["_more"] == ["12 more not listed."]
