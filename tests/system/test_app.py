"""The service as a whole: errors in one JSON shape, probes, OpenAPI and the Swagger UI."""


def test_unknown_route_is_json_404(client):
    response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["code"] == 404


def test_wrong_method_is_json_405_with_allow(client):
    response = client.delete("/health")
    assert response.status_code == 405
    assert response.is_json
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client):
    response = client.post("/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.is_json


def test_body_over_one_mebibyte_is_413_json(client):
    response = client.post(
        "/auth/register", data="x" * (1024 * 1024 + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_liveness_and_readiness(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/health/ready").status_code == 200


def test_openapi_declares_bearer_and_password_flow(client):
    spec = client.get("/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert spec["paths"]["/users/me"]["get"]["security"]
    assert "401" in spec["paths"]["/users/me"]["get"]["responses"]


def test_swagger_ui_is_served_from_the_service_itself(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"/docs/assets/swagger-ui-bundle.js" in page.data
    with client.get("/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert "javascript" in asset.content_type


def test_openapi_lists_the_answers_middleware_gives(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"400", "413", "415", "422"} <= set(paths["/centers"]["post"]["responses"])
    assert {"413", "415"} <= set(paths["/auth/logout"]["post"]["responses"])
    assert "422" in paths["/health"]["get"]["responses"]  # text checks cover any query string
    for path in ("/auth/token", "/auth/register", "/auth/password/forgot"):
        assert "429" in paths[path]["post"]["responses"]


def test_openapi_lists_the_prototype_urls_as_deprecated_aliases(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/create", "/login", "/auth/login", "/forgot", "/validate"):
        operation = paths[path]["post"]
        assert operation["deprecated"] is True, path
        assert operation["tags"] == ["prototype"], path
    assert "deprecated" not in paths["/auth/token"]["post"]
    assert paths["/login"]["post"]["responses"] == paths["/auth/token"]["post"]["responses"]
