"""POST /auth/register (and the prototype's POST /create)."""

from tests.factories import registration


def test_register_creates_a_citizen_with_normalised_fields(client):
    body = registration(
        email="  Rahim.Uddin@Example.ORG ",
        nid="1990-1234 5678",
        phone_number="01712 345678",
        address="12 Lake Road, Dhaka",
    )
    response = client.post("/auth/register", json=body)
    assert response.status_code == 201
    user = response.get_json()
    assert user["email"] == "rahim.uddin@example.org"
    assert user["nid"] == "199012345678"
    assert user["phone_number"] == "+8801712345678"
    assert user["role_id"] == 1
    assert user["verified"] is False
    assert user["address"] == "12 Lake Road, Dhaka"
    assert "password" not in user and "password_hash" not in user


def test_duplicate_email_in_other_letter_case_is_409(client):
    client.post("/auth/register", json=registration(email="amina@example.org"))
    response = client.post("/auth/register", json=registration(email="AMINA@Example.org"))
    assert response.status_code == 409
    assert "email" in response.get_json()["errors"]["json"]


def test_duplicate_nid_written_differently_is_409(client):
    client.post("/auth/register", json=registration(nid="1234567890"))
    response = client.post("/auth/register", json=registration(nid="1234-567-890"))
    assert response.status_code == 409
    assert "nid" in response.get_json()["errors"]["json"]


def test_invalid_fields_get_422_with_a_message_per_field(client):
    response = client.post(
        "/auth/register",
        json={"email": "not-an-email", "password": "short", "nid": "12ab", "phone_number": "12"},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert set(errors) == {"name", "email", "password", "nid", "phone_number"}


def test_password_longer_than_128_characters_is_refused(client):
    response = client.post("/auth/register", json=registration(password="x" * 129))
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]["json"]


def test_role_id_1_from_the_old_client_is_accepted(client):
    response = client.post("/auth/register", json=registration(role_id=1))
    assert response.status_code == 201
    assert response.get_json()["role_id"] == 1


def test_registering_as_admin_is_refused_and_creates_nothing(client, auth):
    body = registration(role_id=2)
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert "role_id" in response.get_json()["errors"]["json"]
    login = client.post("/auth/token", data={"username": body["email"], "password": "x" * 8})
    assert login.get_json()["error"] == "invalid_grant"


def test_fields_a_citizen_may_not_set_are_refused(client):
    response = client.post("/auth/register", json=registration(verified=True, id=1))
    assert response.status_code == 422
    assert {"verified", "id"} <= set(response.get_json()["errors"]["json"])


def test_prototype_create_route_registers(client):
    response = client.post("/create", json=registration(role_id=1))
    assert response.status_code == 201
    assert response.get_json()["role_id"] == 1


def test_a_full_width_look_alike_email_is_the_same_account(client):
    client.post("/auth/register", json=registration(email="alice@example.org"))
    response = client.post("/auth/register", json=registration(email="ａｌｉｃｅ@ｅxample.org"))
    assert response.status_code == 409
    assert "email" in response.get_json()["errors"]["json"]


def test_an_email_is_stored_in_its_normalised_form(client):
    body = registration(email=" ＢＯＢ@Bücher.Example ")
    assert client.post("/auth/register", json=body).get_json()["email"] == (
        "bob@xn--bcher-kva.example"
    )


def test_an_email_with_non_ascii_before_the_at_is_refused(client):
    # Cyrillic "а" looks like Latin "a" and NFKC keeps it: such an address is refused.
    response = client.post("/auth/register", json=registration(email="\u0430lice@example.org"))
    assert response.status_code == 422
    assert "ASCII" in response.get_json()["errors"]["json"]["email"][0]


def test_date_of_birth_is_optional_at_sign_up(client):
    assert client.post("/create", json=registration()).get_json()["date_of_birth"] is None
    body = registration(date_of_birth="1990-05-17")
    assert client.post("/auth/register", json=body).get_json()["date_of_birth"] == "1990-05-17"


def test_a_date_of_birth_in_the_future_is_422(client):
    response = client.post("/auth/register", json=registration(date_of_birth="2999-01-01"))
    assert response.status_code == 422
    assert "date_of_birth" in response.get_json()["errors"]["json"]
