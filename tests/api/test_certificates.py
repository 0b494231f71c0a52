"""Routes of backend/vaccination/certificate_routes.py: downloads, verification, keys."""

import base64
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from config import ConfigurationError, load_config

# --- Certificates: the PDF and JSON downloads, signatures, offline verification and revocation.


@pytest.fixture
def certified(registry):
    """An approved registration of Nusrat Jahan (NID 19901234567890) for Moderna."""
    _, headers = registry.auth.citizen(name="Nusrat Jahan", nid="19901234567890")
    center = registry.center(name="Mugda Medical College", city="Dhaka")
    vaccination_id, _ = registry.approved(headers, vaccine="Moderna", center_id=center)
    return vaccination_id, headers, registry.token(vaccination_id, headers)


def verify(client, token: str) -> dict:
    response = client.post("/certificates/verify", json={"token": token})
    assert response.status_code == 200
    return response.get_json()


def test_the_pdf_names_the_holder_vaccine_doses_and_center(client, certified):
    vaccination_id, headers, _ = certified
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert "no-store" in response.headers["Cache-Control"]
        reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("Nusrat Jahan", "Moderna", "1 of 2", "Mugda Medical College", "**7890"):
        assert expected in text
    assert "19901234567890" not in text


def test_admins_download_any_certificate(client, registry, certified):
    vaccination_id, _, _ = certified
    url = f"/vaccinations/{vaccination_id}/certificate"
    with client.get(url, headers=registry.officer) as response:
        assert response.status_code == 200


def pdf_text(client, vaccination_id: int, headers: dict) -> str:
    """The text extracted from page 1 of the certificate's PDF."""
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        assert response.status_code == 200
        return PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


def test_a_bangla_name_comes_out_of_the_pdf_as_written(client, registry):
    _, headers = registry.auth.citizen(name="নুসরাত জাহান")
    vaccination_id, _ = registry.approved(headers)
    text = pdf_text(client, vaccination_id, headers)
    assert "নুসরাত জাহান" in text
    assert "?" not in text
    assert verify(client, registry.token(vaccination_id, headers))["holder"] == "নুসরাত জাহান"


def test_the_pdf_ships_its_fonts_embedded(client, certified):
    vaccination_id, headers, _ = certified
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        fonts = {
            str(font["/BaseFont"])
            for font in PdfReader(io.BytesIO(response.data))
            .pages[0]["/Resources"]["/Font"]
            .values()
        }
    assert any("NotoSans" in font for font in fonts)


def test_the_pdf_lists_each_dose_given(client, registry, monkeypatch, long_lived_tokens):
    _, headers = registry.auth.citizen()
    first_center = registry.center(name="Kurmitola General Hospital", city="Dhaka")
    registry.approved(headers, center_id=first_center)
    later = datetime.now(UTC) + timedelta(days=60)
    monkeypatch.setattr("backend.clock.utcnow", lambda: later)
    second, _ = registry.approved(headers, center_id=registry.center(name="Chittagong Medical"))
    text = pdf_text(client, second, headers)
    for expected in ("Kurmitola General Hospital", "Chittagong Medical", later.date().isoformat()):
        assert expected in text
    assert text.count("Pfizer") >= 3  # the vaccine field and one line per dose
    assert "Batch" in text


def test_json_download_holds_the_signed_token(client, certified):
    vaccination_id, headers, token = certified
    response = client.get(
        f"/vaccinations/{vaccination_id}/certificate",
        headers={**headers, "Accept": "application/json"},
    )
    body = response.get_json()
    assert body["token"] == token and len(body["certificate_id"]) == 16
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_a_pending_registration_has_no_certificate(client, registry):
    vaccination_id, headers = registry.pending()
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        assert response.status_code == 409


def test_a_valid_certificate_verifies_with_its_claims(client, certified):
    vaccination_id, headers, token = certified
    result = verify(client, token)
    assert result["valid"] is True
    assert result["holder"] == "Nusrat Jahan" and result["nid"] == "**********7890"
    assert result["vaccine"] == "Moderna"
    assert (result["dose_number"], result["doses_required"]) == (1, 2)
    assert result["center"] == "Mugda Medical College, Dhaka"
    assert result["iss"] == "National Vaccination Registry" and result["iat"] > 0


def test_a_certificate_verifies_offline_against_the_jwks(client, certified):
    _, _, token = certified
    jwks = client.get("/.well-known/jwks.json").get_json()
    (key,) = jwks["keys"]
    assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(token, jwt.PyJWK(key), algorithms=["EdDSA"])
    assert claims["holder"] == "Nusrat Jahan"


def test_the_key_id_is_the_rfc_7638_thumbprint(client):
    (key,) = client.get("/.well-known/jwks.json").get_json()["keys"]
    canonical = json.dumps(
        {"crv": key["crv"], "kty": key["kty"], "x": key["x"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    assert key["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert "d" not in key  # never the private part


def test_an_altered_certificate_fails_verification(client, certified):
    _, _, token = certified
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["doses_required"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    result = verify(client, f"{header}.{forged}.{signature}")
    assert result == {"valid": False, "reason": "bad_signature"}


def test_a_certificate_signed_with_another_key_fails_verification(client, certified):
    _, _, token = certified
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(
        claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )
    assert verify(client, forged) == {"valid": False, "reason": "bad_signature"}


def test_a_token_with_an_unknown_key_id_fails_verification(client, certified):
    _, _, token = certified
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "a" * 32, algorithm="HS256", headers={"kid": "someone-else"})
    assert verify(client, forged) == {"valid": False, "reason": "unknown_key"}


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "x" * 8000])
def test_garbage_is_not_a_certificate(client, token):
    assert verify(client, token) == {"valid": False, "reason": "malformed"}


def test_revoked_certificates_fail_verification_and_are_listed(client, registry, certified):
    vaccination_id, headers, token = certified
    response = registry.review(vaccination_id, "revoke", reason="Entered for the wrong person")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "revoked" and body["certificate"]["revoked_at"]
    result = verify(client, token)
    assert result["valid"] is False and result["reason"] == "revoked"
    revoked = client.get("/certificates/revoked").get_json()
    assert [entry["certificate_id"] for entry in revoked] == [body["certificate"]["certificate_id"]]
    assert revoked[0]["revoked_at"] == body["certificate"]["revoked_at"]


def test_revoking_twice_is_a_no_op(registry, certified):
    vaccination_id, _, _ = certified
    first = registry.review(vaccination_id, "revoke", reason="Wrong person")
    again = registry.review(vaccination_id, "revoke", reason="Again")
    assert again.status_code == 200
    assert again.get_json()["certificate"] == first.get_json()["certificate"]


def test_a_revoked_certificate_cannot_be_downloaded(client, registry, certified):
    vaccination_id, headers, _ = certified
    registry.review(vaccination_id, "revoke", reason="Wrong person")
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        assert response.status_code == 409


def test_a_revoked_dose_no_longer_counts(registry, certified):
    vaccination_id, headers, _ = certified
    registry.review(vaccination_id, "revoke", reason="Never given")
    response = registry.register(headers, vaccine="Moderna")
    assert response.status_code == 201 and response.get_json()["dose_number"] == 1


def test_only_approved_registrations_can_be_revoked(registry):
    vaccination_id, _ = registry.pending()
    assert registry.review(vaccination_id, "revoke", reason="No").status_code == 409


def test_revocation_needs_a_reason(registry, certified):
    vaccination_id, _, _ = certified
    assert registry.review(vaccination_id, "revoke").status_code == 422


# --- Signing-key rollover: `flask certificates rotate-key`, the JWKS, and verification across it.


def verify_certificate_keys(client, token: str) -> dict:
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
    assert verify_certificate_keys(client, old_certificate)["valid"] is True


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
    assert verify_certificate_keys(client, token)["valid"] is True


def test_a_second_rotation_keeps_every_retired_key(app, client, monkeypatch, old_certificate):
    rotate(app, monkeypatch)
    rotate(app, monkeypatch)
    assert len(client.get("/.well-known/jwks.json").get_json()["keys"]) == 3
    assert verify_certificate_keys(client, old_certificate)["valid"] is True


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
