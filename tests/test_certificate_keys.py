"""Signing-key rollover: `flask certificates rotate-key`, the JWKS, and verification across it."""

import jwt
import pytest

from config import ConfigurationError, load_config


def verify(client, token: str) -> dict:
    return client.post("/certificates/verify", json={"token": token}).get_json()


def rotate(app, monkeypatch) -> dict:
    """Run rotate-key and restart the app's keys with the two lines it prints, as an env file."""
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-key"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "CERT_SIGNING_KEY",
        "CERT_RETIRED_PUBLIC_KEYS",
    ]
    environ = dict(line.split("=", 1) for line in lines)
    config = load_config(environ, APP_ENV="testing")
    for name in ("CERT_SIGNING_KEY", "CERT_RETIRED_PUBLIC_KEYS"):
        monkeypatch.setitem(app.config, name, config[name])
    return environ


@pytest.fixture
def old_certificate(registry):
    """An approved registration and its certificate token, signed with the key before rotation."""
    vaccination_id, headers = registry.approved()
    return registry.token(vaccination_id, headers)


def test_a_certificate_from_before_a_rotation_still_verifies_online(
    app, client, monkeypatch, old_certificate
):
    rotate(app, monkeypatch)
    assert verify(client, old_certificate)["valid"] is True


def test_a_certificate_from_before_a_rotation_verifies_offline_with_the_jwks(
    app, client, monkeypatch, old_certificate
):
    rotate(app, monkeypatch)
    keys = {key["kid"]: key for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    kid = jwt.get_unverified_header(old_certificate)["kid"]
    claims = jwt.decode(old_certificate, jwt.PyJWK(keys[kid]), algorithms=["EdDSA"])
    assert claims["iss"] == "National Vaccination Registry"


def test_new_certificates_carry_the_new_key_id(app, client, registry, monkeypatch, old_certificate):
    rotate(app, monkeypatch)
    vaccination_id, headers = registry.approved()
    token = registry.token(vaccination_id, headers)
    current, retired = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert jwt.get_unverified_header(token)["kid"] == current["kid"]
    assert jwt.get_unverified_header(old_certificate)["kid"] == retired["kid"]
    assert verify(client, token)["valid"] is True


def test_a_second_rotation_keeps_every_retired_key(app, client, monkeypatch, old_certificate):
    rotate(app, monkeypatch)
    rotate(app, monkeypatch)
    assert len(client.get("/.well-known/jwks.json").get_json()["keys"]) == 3
    assert verify(client, old_certificate)["valid"] is True


def test_the_jwks_publishes_no_private_key(app, client, monkeypatch):
    rotate(app, monkeypatch)
    for key in client.get("/.well-known/jwks.json").get_json()["keys"]:
        assert "d" not in key and key["kid"]


def test_a_rotation_is_audited(app, client, auth, monkeypatch):
    old_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    rotate(app, monkeypatch)
    new_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    response = client.get(
        "/audit", query_string={"event": "certificates.key_rotated"}, headers=auth.admin()[1]
    )
    (event,) = response.get_json()
    assert event["details"] == {"retired_kid": old_kid, "new_kid": new_kid}


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"kty": "OKP"}',
        '[{"kty": "OKP", "crv": "Ed25519", "x": "abc"}]',
        '[{"kty": "OKP", "crv": "Ed25519", "x": "abc", "kid": "k", "d": "secret"}]',
    ],
)
def test_retired_keys_that_are_not_public_jwks_with_a_kid_refuse_to_start(value):
    with pytest.raises(ConfigurationError, match="CERT_RETIRED_PUBLIC_KEYS") as error:
        load_config({"CERT_RETIRED_PUBLIC_KEYS": value}, APP_ENV="testing")
    assert "secret" not in str(error.value)
