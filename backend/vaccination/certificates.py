"""Certificates: Ed25519-signed JWS tokens (EdDSA), the public JWKS, and verification."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import current_app
from sqlalchemy import select

from backend import clock
from backend.audit.services import record
from backend.extensions import db
from backend.models import Certificate, Vaccination
from backend.privacy.masking import mask_nid
from config import PUBLIC_JWK_MEMBERS, generate_signing_key

ALGORITHM = "EdDSA"
ISSUER = "National Vaccination Registry"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@lru_cache(maxsize=4)
def _keys(pem: str) -> tuple[Ed25519PrivateKey, dict]:
    """The private key and its public JWK, with the RFC 7638 thumbprint as key id."""
    private_key = load_pem_private_key(pem.encode(), password=None)
    public = {
        "crv": "Ed25519",
        "kty": "OKP",
        "x": _b64url(private_key.public_key().public_bytes_raw()),
    }
    canonical = json.dumps(public, separators=(",", ":"), sort_keys=True).encode()
    key_id = _b64url(hashlib.sha256(canonical).digest())
    return private_key, {**public, "kid": key_id, "use": "sig", "alg": ALGORITHM}


def signing_key() -> tuple[Ed25519PrivateKey, dict]:
    """The configured signing key and its public JWK."""
    return _keys(current_app.config["CERT_SIGNING_KEY"])


def jwks() -> dict:
    """The public keys that verify certificates (JWK Set): the current one, then the retired."""
    current = signing_key()[1]
    retired = [
        {**key, "use": "sig", "alg": ALGORITHM}
        for key in current_app.config["CERT_RETIRED_PUBLIC_KEYS"]
        if key["kid"] != current["kid"]
    ]
    return {"keys": [current, *retired]}


def rotated_key_settings() -> tuple[str, str]:
    """A new signing key (PEM, newlines escaped) and the retired keys with the current one added.

    The values go into the environment; nothing changes until the app restarts with them.
    """
    new_pem = generate_signing_key()
    current = signing_key()[1]
    retired = list(current_app.config["CERT_RETIRED_PUBLIC_KEYS"])
    if all(key["kid"] != current["kid"] for key in retired):
        retired.append({member: current[member] for member in PUBLIC_JWK_MEMBERS})
    record(
        "certificates.key_rotated",
        subject_type="signing_key",
        details={"retired_kid": current["kid"], "new_kid": _keys(new_pem)[1]["kid"]},
    )
    db.session.commit()
    escaped = new_pem.strip().replace("\n", "\\n")
    return escaped, json.dumps(retired, separators=(",", ":"))


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()


def new_certificate_id() -> str:
    """A random, unguessable id that is easy to read aloud (16 characters of base32)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def issue_certificate(vaccination: Vaccination) -> Certificate:
    """A new certificate for an approved vaccination, its claims signed with the current key."""
    private_key, jwk = signing_key()
    certificate_id, issued_at = new_certificate_id(), clock.utcnow()
    claims = {
        "iss": ISSUER,
        "jti": certificate_id,
        "iat": int(issued_at.timestamp()),
        "holder": vaccination.holder.name,
        "nid": mask_nid(vaccination.holder.nid),
        "date_of_birth": _iso(vaccination.holder.date_of_birth),
        "vaccine": vaccination.vaccine.name,
        "manufacturer": vaccination.vaccine.manufacturer,
        "dose_number": vaccination.dose_number,
        "doses_required": vaccination.vaccine.doses_required,
        "vaccination_date": vaccination.vaccination_date.isoformat(),
        "center": f"{vaccination.center.name}, {vaccination.center.city}",
    }
    token = jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": jwk["kid"]})
    return Certificate(
        id=certificate_id,
        vaccination=vaccination,
        token=token,
        key_id=jwk["kid"],
        issued_at=issued_at,
    )


def verify(token: str) -> dict:
    """`{valid: True, **claims}`, or `{valid: False, reason}` for a bad, unknown or revoked one."""
    try:
        key_id = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        return {"valid": False, "reason": "malformed"}
    keys = {jwk["kid"]: jwk for jwk in jwks()["keys"]}
    if not isinstance(key_id, str) or key_id not in keys:
        return {"valid": False, "reason": "unknown_key"}
    try:
        # The signature vouches for iat; PyJWT would compare it with its own clock, not ours.
        claims = jwt.decode(
            token,
            jwt.PyJWK(keys[key_id]),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["iss", "iat", "jti"], "verify_iat": False},
        )
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
        return {"valid": False, "reason": "bad_signature"}
    except jwt.InvalidTokenError:
        return {"valid": False, "reason": "malformed"}
    certificate = db.session.get(Certificate, str(claims["jti"]))
    if certificate is None:
        return {"valid": False, "reason": "unknown_certificate"}
    if certificate.revoked_at is not None:
        answer = {"valid": False, "reason": "revoked", "revoked_at": certificate.revoked_at}
        if certificate.superseded_by_id is not None:  # a correction replaced it
            answer |= {"revoke_reason": "superseded", "superseded_by": certificate.superseded_by_id}
        return answer
    return {"valid": True, "certificate_id": certificate.id, **claims}


def revoked() -> list[Certificate]:
    """Every revoked certificate, most recently revoked first."""
    query = select(Certificate).where(Certificate.revoked_at.is_not(None))
    return list(db.session.scalars(query.order_by(Certificate.revoked_at.desc())))
