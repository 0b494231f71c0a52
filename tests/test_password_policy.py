"""Password rules: 8 to 128 characters, not common, not the email's name or the NID."""

import pytest

from tests.conftest import DEFAULT_PASSWORD
from tests.factories import registration


@pytest.mark.parametrize("password", ["password1", "iloveyou", "qwertyuiop", "Sunshine1"])
def test_common_passwords_are_refused_at_registration(client, password):
    response = client.post("/auth/register", json=registration(password=password))
    assert response.status_code == 422
    assert "common" in response.get_json()["errors"]["json"]["password"][0]


def test_password_containing_the_email_name_is_refused(client):
    body = registration(email="farhana.k@example.org", password="my farhana.k secret")
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]["json"]["password"][0]


def test_password_containing_the_nid_is_refused(client):
    body = registration(nid="8812345678", password="pw 8812345678 !")
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert "national ID" in response.get_json()["errors"]["json"]["password"][0]


def test_no_composition_rules(client):
    response = client.post("/auth/register", json=registration(password="plain lowercase words"))
    assert response.status_code == 201


def test_password_change_applies_the_same_rules(client, auth):
    _, headers = auth.citizen(nid="7712345678")
    for weak in ("12345678", "x7712345678x", "short"):
        body = {"current_password": DEFAULT_PASSWORD, "new_password": weak}
        assert client.put("/users/me/password", json=body, headers=headers).status_code == 422


def test_any_unicode_password_is_accepted_and_signs_in(client):
    body = registration(password="পাসওয়ার্ড ñandú 密码")
    assert client.post("/auth/register", json=body).status_code == 201
    response = client.post(
        "/auth/token", data={"username": body["email"], "password": body["password"]}
    )
    assert response.status_code == 200


def test_password_change_proves_the_current_password_before_naming_the_nid(client, auth):
    _, headers = auth.citizen(nid="7712345679")
    body = {"current_password": "not my password", "new_password": "x7712345679x"}
    response = client.put("/users/me/password", json=body, headers=headers)
    assert response.status_code == 400
    assert "national ID" not in response.get_data(as_text=True)
